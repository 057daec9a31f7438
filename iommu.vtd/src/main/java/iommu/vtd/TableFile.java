package iommu.vtd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

import iommu.api.GuestId;

/**
 * A unit's table memory kept in a file of the state directory, so that its
 * root, context and I/O page tables outlive a killed process, as a crashed
 * kernel's tables outlive it for the kdump kernel that inherits them. The
 * file is memory-mapped: a write is in the operating system's page cache as
 * soon as it is made, so a SIGKILL at any instruction loses nothing written
 * before it. (A power loss would, as it loses a real unit's tables: no
 * {@code msync} is needed to model a crash, and the core's journal is forced
 * before each acknowledgement anyway.)
 *
 * <p>Layout, little-endian:
 * <ul>
 * <li>page 0, the header: magic {@code IOMMU-VT-D-TABLE} (16 bytes), format
 * version (u32 at 0x10), the unit's register base (0x18), segment (u32,
 * 0x20), CAP (0x28), ECAP (0x30), VER (u32, 0x38), the root table address
 * the driver latched in RTADDR (0x40, 0 before the first bring-up), the table
 * region's base (0x48) and size in pages (0x50), the unit id (u16 length and
 * UTF-8 from 0x100);</li>
 * <li>pages 1..64, the driver's guest directory: one u64 per guest id, the
 * address of the guest's I/O page-table root on this unit, 0 for none;</li>
 * <li>from page 65, page {@code n} of the table region (the memory the driver
 * allocates tables from, {@link VtdUnit#TABLE_REGION}).</li>
 * </ul>
 * Pages outside the region (none that the driver writes) stay on the heap.
 * The identity fields are checked when the file is opened again: a file of
 * another unit, another format version or a damaged header is refused with
 * the file and what was expected, never guessed at.
 *
 * <p>The file has no holes: it grows 1 MiB at a time by writing zeros, when a
 * page beyond it is handed out, so that a full file system answers that write
 * ("no space left", the operation refused) rather than the memory write into
 * a hole it cannot back later (SIGBUS, the process killed); a file written
 * sparse by an earlier version is filled once when opened (the header's
 * dense flag, 0x58, says it was). Only what the file holds is mapped.
 */
final class TableFile implements PhysicalMemory.PageStore {

    static final int FORMAT_VERSION = 1;
    static final String SUFFIX = ".tables";
    private static final byte[] MAGIC = "IOMMU-VT-D-TABLE".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_PAGES = 1;
    private static final int DIRECTORY_PAGES = (GuestId.MAX + 1 + PhysicalMemory.QWORDS_PER_PAGE - 1)
            / PhysicalMemory.QWORDS_PER_PAGE;
    static final int FIRST_REGION_PAGE = HEADER_PAGES + DIRECTORY_PAGES;

    private static final int VERSION_OFFSET = 0x10;
    private static final int BASE_OFFSET = 0x18;
    private static final int SEGMENT_OFFSET = 0x20;
    private static final int CAP_OFFSET = 0x28;
    private static final int ECAP_OFFSET = 0x30;
    private static final int VER_OFFSET = 0x38;
    private static final int ROOT_OFFSET = 0x40;
    private static final int REGION_BASE_OFFSET = 0x48;
    private static final int REGION_PAGES_OFFSET = 0x50;
    private static final int DENSE_OFFSET = 0x58;
    private static final int ID_OFFSET = 0x100;
    /** What the refusal of a file says the user can do. */
    static final String REBUILD_HINT = "; --rebuild-tables (configuration rebuildTables) sets the file aside and"
            + " rebuilds the unit's tables from the journal";

    /** How the file's channel is opened: the file system, or in tests one whose writes fail (a full disk). */
    interface Opener {
        Opener FILES = FileChannel::open;

        FileChannel open(Path file, OpenOption... options) throws IOException;
    }

    private final DenseFile file;
    private final long regionFirstPfn;
    private final long regionPages;
    private final PhysicalMemory.HeapPageStore outside = new PhysicalMemory.HeapPageStore();
    private boolean inherited;
    /** What was set aside for this file to start afresh (a rebuild), or null. */
    private String setAside;

    private TableFile(DenseFile file, long regionBase, long regionPages) {
        this.file = file;
        this.regionFirstPfn = regionBase >>> PhysicalMemory.PAGE_SHIFT;
        this.regionPages = regionPages;
    }

    /** The state directory whose {@code vtd/} folder this is (the folder itself when it is not such). */
    static Path stateDirectoryOf(Path tablesDirectory) {
        Path parent = tablesDirectory.toAbsolutePath().getParent();
        return tablesDirectory.getFileName() != null && parent != null
                && tablesDirectory.getFileName().toString().equals(KeptTables.FOLDER) ? parent
                        : tablesDirectory.toAbsolutePath();
    }

    /** The file of the unit in the directory: named by segment and register base, which identify the hardware. */
    static Path fileOf(Path directory, UnitDefinition unit) {
        return directory.resolve(String.format("vtd-%04x-%016x%s", unit.segment(), unit.registerBase(), SUFFIX));
    }

    /**
     * Opens the unit's table file in the directory, creating it (and the
     * directory) when absent. A file whose root table address is 0 (the
     * process died before the first bring-up finished) starts afresh.
     *
     * @throws IllegalArgumentException when the file belongs to another unit,
     *         has another format version or a damaged header; the file is left as it is
     * @throws IOException when the file cannot be read or written (or its blocks had: no space left)
     */
    static TableFile open(Path directory, UnitDefinition unit, int version, long regionBase, long regionPages)
            throws IOException {
        return open(directory, unit, version, regionBase, regionPages, Opener.FILES);
    }

    static TableFile open(Path directory, UnitDefinition unit, int version, long regionBase, long regionPages,
            Opener opener) throws IOException {
        Files.createDirectories(directory);
        Path path = fileOf(directory, unit);
        boolean created = !Files.exists(path);
        FileChannel channel = opener.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            boolean existing = channel.size() > 0;
            TableFile file = new TableFile(new DenseFile(path, channel, "unit " + unit.id(),
                    stateDirectoryOf(directory), FIRST_REGION_PAGE + regionPages), regionBase, regionPages);
            if (existing) {
                ByteBuffer header = readHeader(channel);
                checkHeader(path, header, unit, version, regionBase, regionPages);
                if (header.getLong(ROOT_OFFSET) != 0) {
                    file.inherited = true;
                    file.file.takeOver(header.getInt(DENSE_OFFSET) == 1);
                    file.header().putInt(DENSE_OFFSET, 1);
                    return file;
                }
                // an interrupted first bring-up: nothing was latched, nothing to inherit
                file.file.truncate();
            }
            file.writeHeader(unit, version, regionBase, regionPages);
            return file;
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (created) {
                // ours, and never filled (no space left for its header): not left to be refused as foreign
                Files.deleteIfExists(path);
            }
            throw e;
        }
    }

    /**
     * Checks, without changing anything, that the unit's file in the
     * directory (when there is one) is this unit's, in this format.
     *
     * @throws IllegalArgumentException as {@link #open} does
     * @throws IOException when the file cannot be read
     */
    static void check(Path directory, UnitDefinition unit, int version, long regionBase, long regionPages)
            throws IOException {
        Path path = fileOf(directory, unit);
        if (!Files.exists(path)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            if (channel.size() > 0) {
                checkHeader(path, readHeader(channel), unit, version, regionBase, regionPages);
            }
        }
    }

    private static ByteBuffer readHeader(FileChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(PhysicalMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        while (header.hasRemaining() && channel.read(header, header.position()) > 0) {
            // a short read: go on from where it stopped
        }
        return header;
    }

    private static void checkHeader(Path path, ByteBuffer header, UnitDefinition unit, int version,
            long regionBase, long regionPages) {
        if (header.hasRemaining()) {
            throw refused(path, String.format("%d bytes, shorter than its %d-byte header", header.position(),
                    PhysicalMemory.PAGE_SIZE), "a table file written by this platform");
        }
        byte[] magic = new byte[MAGIC.length];
        header.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw refused(path, "no IOMMU-VT-D-TABLE signature at offset 0", "a table file written by this platform");
        }
        int format = header.getInt(VERSION_OFFSET);
        if (format != FORMAT_VERSION) {
            throw refused(path, "format version " + format, "format version " + FORMAT_VERSION
                    + " (a newer platform wrote it, or it is damaged)");
        }
        String id = readId(header);
        expect(path, "register base", header.getLong(BASE_OFFSET), unit.registerBase(), id);
        expect(path, "segment", header.getInt(SEGMENT_OFFSET), unit.segment(), id);
        expect(path, "CAP", header.getLong(CAP_OFFSET), unit.cap().raw(), id);
        expect(path, "ECAP", header.getLong(ECAP_OFFSET), unit.ecap().raw(), id);
        expect(path, "VER", header.getInt(VER_OFFSET), version, id);
        expect(path, "table region base", header.getLong(REGION_BASE_OFFSET), regionBase, id);
        expect(path, "table region size", header.getLong(REGION_PAGES_OFFSET), regionPages, id);
        long root = header.getLong(ROOT_OFFSET);
        long pfn = root >>> PhysicalMemory.PAGE_SHIFT;
        long first = regionBase >>> PhysicalMemory.PAGE_SHIFT;
        if (root != 0 && ((root & (PhysicalMemory.PAGE_SIZE - 1)) != 0 || pfn < first || pfn >= first + regionPages)) {
            throw refused(path, String.format("root table address 0x%x at header offset 0x%x", root, ROOT_OFFSET),
                    String.format("0 or a 4 KiB-aligned address of the table region 0x%x..0x%x", regionBase,
                            regionBase + (regionPages << PhysicalMemory.PAGE_SHIFT) - 1));
        }
    }

    private static void expect(Path path, String field, long found, long wanted, String id) {
        if (found != wanted) {
            throw refused(path, String.format("it holds the tables of unit %s with %s 0x%x", id, field, found),
                    String.format("%s 0x%x, this unit's (the platform changed? then use another state directory)",
                            field, wanted));
        }
    }

    private static IllegalArgumentException refused(Path path, String what, String expected) {
        return new IllegalArgumentException("table file " + path + " refused: " + what + ": expected " + expected
                + REBUILD_HINT);
    }

    private void writeHeader(UnitDefinition unit, int version, long regionBase, long regionPages) throws IOException {
        MappedByteBuffer header;
        try {
            header = header();
        } catch (iommu.api.IommuException e) {
            throw new IOException(e.getMessage(), e.getCause()); // the file cannot be created: no space left
        }
        header.putInt(DENSE_OFFSET, 1);
        header.put(0, MAGIC);
        header.putInt(VERSION_OFFSET, FORMAT_VERSION);
        header.putLong(BASE_OFFSET, unit.registerBase());
        header.putInt(SEGMENT_OFFSET, unit.segment());
        header.putLong(CAP_OFFSET, unit.cap().raw());
        header.putLong(ECAP_OFFSET, unit.ecap().raw());
        header.putInt(VER_OFFSET, version);
        header.putLong(ROOT_OFFSET, 0);
        header.putLong(REGION_BASE_OFFSET, regionBase);
        header.putLong(REGION_PAGES_OFFSET, regionPages);
        byte[] id = unit.id().getBytes(StandardCharsets.UTF_8);
        int length = Math.min(id.length, PhysicalMemory.PAGE_SIZE - ID_OFFSET - 2);
        header.putShort(ID_OFFSET, (short) length);
        header.put(ID_OFFSET + 2, id, 0, length);
    }

    private static String readId(ByteBuffer header) {
        int length = Math.min(header.getShort(ID_OFFSET) & 0xFFFF, PhysicalMemory.PAGE_SIZE - ID_OFFSET - 2);
        byte[] id = new byte[length];
        header.get(ID_OFFSET + 2, id);
        return new String(id, StandardCharsets.UTF_8);
    }

    Path path() {
        return file.path();
    }

    /** Whether the file held a unit's tables when opened (the unit inherits them). */
    boolean inherited() {
        return inherited;
    }

    /** What was set aside for this file to start afresh (the refused file and where it went), or null. */
    String setAside() {
        return setAside;
    }

    void setAside(String what) {
        this.setAside = what;
    }

    /** The root table address latched at the last bring-up, 0 when there was none. */
    long rootTable() {
        return file.mapped(0, false).map(b -> b.getLong(ROOT_OFFSET)).orElse(0L);
    }

    /** Records the root table latched in RTADDR: from now on the file has tables to inherit. */
    void setRootTable(long address) {
        header().putLong(ROOT_OFFSET, address);
    }

    /** The guest's I/O page-table root recorded by the driver, 0 for none. */
    long guestRoot(GuestId guest) {
        return mapped(HEADER_PAGES + guest.value() / PhysicalMemory.QWORDS_PER_PAGE, false)
                .map(b -> b.getLong(directoryOffset(guest))).orElse(0L);
    }

    void setGuestRoot(GuestId guest, long root) {
        if (root == 0 && guestRoot(guest) == 0) {
            return;
        }
        mapped(HEADER_PAGES + guest.value() / PhysicalMemory.QWORDS_PER_PAGE, true).orElseThrow()
                .putLong(directoryOffset(guest), root);
    }

    /** Every guest the directory names, with its root; guest 0 is the host domain's identity table. */
    Map<GuestId, Long> guestRoots() {
        Map<GuestId, Long> roots = new TreeMap<>();
        for (int g = 0; g <= GuestId.MAX; g++) {
            long root = guestRoot(new GuestId(g));
            if (root != 0) {
                roots.put(new GuestId(g), root);
            }
        }
        return roots;
    }

    private int directoryOffset(GuestId guest) {
        long page = HEADER_PAGES + guest.value() / PhysicalMemory.QWORDS_PER_PAGE;
        return DenseFile.offset(page, guest.value() % PhysicalMemory.QWORDS_PER_PAGE);
    }

    @Override
    public long read(long pfn, int index) {
        long page = filePage(pfn);
        if (page < 0) {
            return outside.read(pfn, index);
        }
        return mapped(page, false).map(b -> b.getLong(offset(page, index))).orElse(0L);
    }

    /** A page about to be handed out lies in the file: it grows now if it must, or the allocation is refused. */
    @Override
    public void reserve(long pfn) {
        long page = filePage(pfn);
        if (page >= 0) {
            file.allocate(page);
        }
    }

    @Override
    public void write(long pfn, int index, long value) {
        long page = filePage(pfn);
        if (page < 0) {
            outside.write(pfn, index, value);
            return;
        }
        java.util.Optional<MappedByteBuffer> chunk = mapped(page, value != 0);
        if (chunk.isPresent()) {
            chunk.get().putLong(offset(page, index), value);
        }
    }

    @Override
    public void zero(long pfn) {
        long page = filePage(pfn);
        if (page < 0) {
            outside.zero(pfn);
            return;
        }
        mapped(page, false).ifPresent(b -> {
            int from = offset(page, 0);
            for (int i = 0; i < PhysicalMemory.QWORDS_PER_PAGE; i++) {
                b.putLong(from + i * 8, 0);
            }
        });
    }

    /** Drops the mappings and closes the file; the pages stay in it. */
    @Override
    public void close() {
        file.close();
    }

    private long filePage(long pfn) {
        long n = pfn - regionFirstPfn;
        return n >= 0 && n < regionPages ? FIRST_REGION_PAGE + n : -1;
    }

    private static int offset(long filePage, int index) {
        return DenseFile.offset(filePage, index);
    }

    private MappedByteBuffer header() {
        return mapped(0, true).orElseThrow();
    }

    /** The mapping holding the file page; empty when it lies beyond the file and {@code grow} is false. */
    private java.util.Optional<MappedByteBuffer> mapped(long filePage, boolean grow) {
        return file.mapped(filePage, grow);
    }
}
