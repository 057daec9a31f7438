package iommu.core.recovery;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.support.WriteFailure;
import iommu.core.assign.Attachment;
import iommu.core.assign.OneLine;
import iommu.core.assign.GuestMappings;

/**
 * The core's write-ahead record of assignments and mappings: one line per
 * change, each with its CRC-32, forced to disk before the change is
 * acknowledged. On load it is replayed into the state it describes and then
 * rewritten as a snapshot, so it stays as small as the state.
 *
 * <p>A torn last line (the process died while writing it) was never
 * acknowledged and is dropped; a damaged line anywhere else is refused.
 */
public final class Journal implements AutoCloseable {

    public static final String FILE = "journal";
    public static final int FORMAT = 1;
    public static final String HEADER = "iommu-journal " + FORMAT;

    /** What a journal describes. */
    public static final class State {
        public final Map<PciAddress, Attachment> attachments = new TreeMap<>();
        public final Map<GuestId, GuestMappings> mappings = new TreeMap<>();
        /** Devices in quarantine, each with its unit (DeviceQuarantine). */
        public final Map<PciAddress, String> quarantined = new TreeMap<>();
    }

    private final Path file;
    private final FileChannel channel;
    /** Whether appends are forced to disk; a journal that needs only outlive a bundle restart is not. */
    private final boolean durable;
    /** The file's length before the last append, -1 when there is none to take back. */
    private long beforeLastAppend = -1;
    /** Why nothing more may be appended (a failed write that could not be cut back), or null. */
    private String broken;

    private Journal(Path file, FileChannel channel, boolean durable) {
        this.file = file;
        this.channel = channel;
        this.durable = durable;
    }

    /** Reads the journal in the directory (none yet: an empty state) without opening it for writing. */
    public static State read(Path directory) {
        Path file = directory.resolve(FILE);
        State state = new State();
        if (!Files.exists(file)) {
            return state;
        }
        List<String> lines;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            lines = in.lines().toList();
        } catch (IOException e) {
            throw new IommuException("cannot read the journal " + file + ": " + e.getMessage(), e);
        }
        boolean complete = endsWithNewline(file);
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            String first = lines.isEmpty() ? "nothing" : "'" + truncate(lines.get(0)) + "'";
            throw new IommuException(file + ":1: not a journal of this platform: found " + first
                    + ", expected '" + HEADER + "'" + (lines.isEmpty() || !lines.get(0).startsWith("iommu-journal ")
                            ? "" : " (the state directory was written by another format version)"));
        }
        for (int i = 1; i < lines.size(); i++) {
            boolean last = i == lines.size() - 1;
            String line = lines.get(i);
            String payload = verified(line);
            if (payload == null) {
                if (last) {
                    break; // torn by a crash while being written: never acknowledged
                }
                throw new IommuException(file + ":" + (i + 1) + ": damaged record '" + truncate(line)
                        + "': its CRC-32 does not match; expected 'CRC PAYLOAD' as this platform writes it");
            }
            if (last && !complete) {
                break;
            }
            try {
                apply(state, payload);
            } catch (RuntimeException e) {
                throw new IommuException(file + ":" + (i + 1) + ": " + OneLine.of(e));
            }
        }
        return state;
    }

    private static boolean endsWithNewline(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() == 0) {
                return true;
            }
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, ch.size() - 1);
            return b.get(0) == '\n';
        } catch (IOException e) {
            return false;
        }
    }

    private static String truncate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    private static String verified(String line) {
        int space = line.indexOf(' ');
        if (space != 8) {
            return null;
        }
        String payload = line.substring(9);
        return String.format("%08x", crc(payload)).equals(line.substring(0, 8)) ? payload : null;
    }

    private static long crc(String payload) {
        CRC32 crc = new CRC32();
        crc.update(payload.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    private static void apply(State state, String payload) {
        String[] f = payload.split(" ");
        switch (f[0]) {
            case "attach" -> {
                expect(f, 5, "attach GUEST UNIT DID BDF");
                PciAddress device = PciAddress.parse(f[4]);
                state.attachments.put(device, new Attachment(device, GuestId.guest(Integer.parseInt(f[1])), f[2],
                        DomainId.of(Integer.parseInt(f[3]))));
                state.quarantined.remove(device); // attached from quarantine
            }
            case "quarantine" -> {
                expect(f, 3, "quarantine BDF UNIT");
                state.quarantined.put(PciAddress.parse(f[1]), f[2]);
            }
            case "release" -> {
                expect(f, 2, "release BDF");
                state.quarantined.remove(PciAddress.parse(f[1]));
            }
            case "detach" -> {
                expect(f, 2, "detach BDF");
                state.attachments.remove(PciAddress.parse(f[1]));
            }
            case "map" -> {
                expect(f, 5, "map GUEST IOVA HPA PAGES");
                state.mappings.computeIfAbsent(GuestId.guest(Integer.parseInt(f[1])), g -> new GuestMappings())
                        .add(Long.parseUnsignedLong(f[2], 16), Long.parseUnsignedLong(f[3], 16), Long.parseLong(f[4]));
            }
            case "unmap" -> {
                expect(f, 4, "unmap GUEST IOVA PAGES");
                GuestMappings m = state.mappings.get(GuestId.guest(Integer.parseInt(f[1])));
                if (m != null) {
                    m.remove(Long.parseUnsignedLong(f[2], 16), Long.parseLong(f[3]));
                }
            }
            default -> throw new IllegalArgumentException("unknown record '" + f[0]
                    + "': expected attach, detach, map, unmap, quarantine or release");
        }
    }

    private static void expect(String[] fields, int count, String form) {
        if (fields.length != count) {
            throw new IllegalArgumentException("record '" + String.join(" ", fields) + "' has " + fields.length
                    + " fields: expected " + form);
        }
    }

    /**
     * Writes a snapshot of the state as the new journal (atomically: a
     * temporary file, forced, then renamed, and the directory forced so the
     * rename outlives a power loss) and opens it for appending.
     */
    public static Journal rewrite(Path directory, Map<PciAddress, Attachment> attachments,
            Map<GuestId, GuestMappings> mappings) {
        return rewrite(directory, attachments, mappings, true, Storage.FILES);
    }

    /**
     * @param durable whether to force the snapshot and every append to disk
     *        (a state directory), or only to hand them to the operating system,
     *        which keeps them across a restart of the bundle (its private journal)
     * @throws IommuException one line naming the directory ("no space left" when it is full); the journal
     *         that was there is left as it was
     */
    public static Journal rewrite(Path directory, Map<PciAddress, Attachment> attachments,
            Map<GuestId, GuestMappings> mappings, boolean durable, Storage storage) {
        return rewrite(directory, attachments, mappings, Map.of(), durable, storage);
    }

    /** As above, with the devices in quarantine. */
    public static Journal rewrite(Path directory, Map<PciAddress, Attachment> attachments,
            Map<GuestId, GuestMappings> mappings, Map<PciAddress, String> quarantined, boolean durable,
            Storage storage) {
        Path file = directory.resolve(FILE);
        Path temporary = directory.resolve(FILE + ".new");
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (Attachment a : attachments.values()) {
            text.append(line(attach(a)));
        }
        for (Map.Entry<PciAddress, String> q : new TreeMap<>(quarantined).entrySet()) {
            text.append(line(quarantine(q.getKey(), q.getValue())));
        }
        for (Map.Entry<GuestId, GuestMappings> e : new LinkedHashMap<>(mappings).entrySet()) {
            for (GuestMappings.Run run : e.getValue().runs()) {
                text.append(line(map(e.getKey(), run.iova(), run.hostAddress(), run.pages())));
            }
        }
        try {
            Files.createDirectories(directory);
            try (FileChannel out = storage.open(temporary, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                writeAll(out, ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
                if (durable) {
                    out.force(true);
                }
            }
            storage.move(temporary, file);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temporary); // gives back what the failed write took
            } catch (IOException ignored) {
                // it is not read: the next rewrite truncates it
            }
            throw WriteFailure.of(directory, "a snapshot of the journal", "the directory is not taken up; its"
                    + " journal is as it was", e);
        }
        try {
            if (durable) {
                forceDirectory(directory, storage);
            }
            return new Journal(file, storage.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
                    durable);
        } catch (IOException e) {
            throw WriteFailure.of(directory, "the journal", "the directory is not taken up; its journal holds"
                    + " the snapshot", e);
        }
    }

    /** Forces the directory's entries (the rename), where the platform lets a directory be opened at all. */
    static void forceDirectory(Path directory, Storage storage) throws IOException {
        FileChannel channel;
        try {
            channel = storage.open(directory, StandardOpenOption.READ);
        } catch (IOException e) {
            return; // some platforms (Windows) cannot open a directory: their rename is as durable as they make it
        }
        try (channel) {
            channel.force(true);
        }
    }

    private static void writeAll(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    public static String attach(Attachment a) {
        return "attach " + a.guest() + " " + a.unitId() + " " + a.domainId() + " " + a.device();
    }

    public static String detach(PciAddress device) {
        return "detach " + device;
    }

    public static String quarantine(PciAddress device, String unitId) {
        return "quarantine " + device + " " + unitId;
    }

    public static String release(PciAddress device) {
        return "release " + device;
    }

    public static String map(GuestId guest, long iova, long hostAddress, long pages) {
        return String.format("map %s %x %x %d", guest, iova, hostAddress, pages);
    }

    public static String unmap(GuestId guest, long iova, long pages) {
        return String.format("unmap %s %x %d", guest, iova, pages);
    }

    private static String line(String payload) {
        return String.format("%08x %s%n", crc(payload), payload).replace(System.lineSeparator(), "\n");
    }

    /**
     * Appends the records and (durable) forces them to disk: when this
     * returns, they survive a crash. When a write fails the file is cut back
     * to its last good record, so a torn line never sits before later ones.
     *
     * @throws IommuException one line naming the directory ("no space left" when it is full): nothing appended
     */
    public void append(List<String> payloads) {
        if (broken != null) {
            throw new IommuException(broken);
        }
        StringBuilder text = new StringBuilder();
        payloads.forEach(p -> text.append(line(p)));
        long before;
        try {
            before = channel.size();
        } catch (IOException e) {
            throw WriteFailure.of(file.getParent(), "the journal", "the operation is not done", e);
        }
        try {
            writeAll(channel, ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
            if (durable) {
                channel.force(false);
            }
        } catch (IOException e) {
            cutBack(before, e);
            throw WriteFailure.of(file.getParent(), "the journal", "the operation is not done; what was"
                    + " acknowledged before is kept", e);
        }
        beforeLastAppend = before;
    }

    /**
     * Takes the last append back (its operation failed after it was written,
     * and on a full disk a record undoing it might not fit).
     *
     * @return whether it was taken back; false when there is none, or the cut failed
     */
    public boolean takeBackLastAppend() {
        if (beforeLastAppend < 0 || broken != null) {
            return false;
        }
        try {
            channel.truncate(beforeLastAppend);
        } catch (IOException e) {
            return false;
        }
        beforeLastAppend = -1;
        forceAfterCut();
        return true;
    }

    /**
     * Forces a cut, where the disk lets it: if it cannot, the next append's
     * force carries it, and a power loss before that leaves at most a torn
     * last record, which is dropped on reading.
     */
    private void forceAfterCut() {
        try {
            if (durable) {
                channel.force(false);
            }
        } catch (IOException e) {
            // as said: the cut is in the file for this process and a crash, and forced with the next record
        }
    }

    private void cutBack(long length, IOException cause) {
        beforeLastAppend = -1;
        try {
            channel.truncate(length);
            forceAfterCut();
        } catch (IOException e) {
            // what is there may end in a torn record: appending after it would make it a damaged one
            broken = "state directory " + file.getParent() + ": the journal could not be cut back to its last"
                    + " record after a failed write (" + cause.getMessage() + ", then " + e.getMessage()
                    + "): nothing more is recorded; start again on the directory once it is writable";
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // closing after the last forced write loses nothing
        }
    }

    public static List<String> payloads(String... payloads) {
        return new ArrayList<>(List.of(payloads));
    }
}
