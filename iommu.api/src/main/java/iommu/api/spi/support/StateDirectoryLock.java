package iommu.api.spi.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import iommu.api.IommuException;

/**
 * The one writer of a state directory: an exclusive lock on its file
 * {@value #FILE} ({@link FileChannel#tryLock}), held from before anything in
 * the directory is read until the holder lets it go, as PostgreSQL's
 * {@code postmaster.pid} or LevelDB's {@code LOCK} do. The file names the
 * holding process (its pid and start time) for the one that is refused.
 *
 * <p>File locks belong to the whole JVM, and on Linux closing any channel of
 * the file drops them, so this process's locks are also kept in a registry
 * keyed by the directory's canonical path: the components of one framework
 * (the same {@code owner}: the launcher, the core, the VT-d units) share the
 * lock, each under its own {@code holder} name; a second holder of the same
 * name, or another owner (another framework in this JVM), is refused.
 * Thread-safe.
 */
public final class StateDirectoryLock implements AutoCloseable {

    /** The lock file in the state directory; never deleted, so every process locks the same file. */
    public static final String FILE = "lock";
    /** How long a refused process waits for a new holder to write its pid into the file. */
    private static final long HOLDER_LINE_WAIT_MILLIS = 1000;

    private static final Map<Path, Held> HELD = new HashMap<>();

    /** This process's lock on one directory and who in it shares it. */
    private static final class Held {
        final String owner;
        final FileChannel channel;
        final FileLock lock;
        final Set<String> holders = new LinkedHashSet<>();

        Held(String owner, FileChannel channel, FileLock lock) {
            this.owner = owner;
            this.channel = channel;
            this.lock = lock;
        }
    }

    private final Path directory;
    private final String holder;
    private boolean closed;

    private StateDirectoryLock(Path directory, String holder) {
        this.directory = directory;
        this.holder = holder;
    }

    /**
     * Takes the directory (created when missing) for the holder.
     *
     * @param owner who may share the lock (a framework's launch id): holders of one owner share it
     * @param holder what holds it, e.g. {@code iommu.core}: one of each name per directory
     * @throws IommuException one line naming the directory and who has it (another process: its pid and
     *         start time); nothing in the directory changed
     */
    public static StateDirectoryLock acquire(Path directory, String owner, String holder) {
        Path canonical;
        try {
            Files.createDirectories(directory);
            canonical = directory.toRealPath();
        } catch (IOException | RuntimeException e) {
            throw new IommuException("state directory " + directory + ": cannot create or resolve it: " + e, e);
        }
        synchronized (HELD) {
            Held held = HELD.get(canonical);
            if (held != null) {
                if (!held.owner.equals(owner)) {
                    throw refused(directory, "another framework of this process (" + self() + ")");
                }
                if (held.holders.contains(holder)) {
                    throw refused(directory, "another " + holder + " of this framework (" + self() + ")");
                }
                held.holders.add(holder);
                return new StateDirectoryLock(canonical, holder);
            }
            Path file = canonical.resolve(FILE);
            FileChannel channel;
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new IommuException("state directory " + directory + ": cannot open its lock file " + file
                        + ": " + e + ": expected a writable directory", e);
            }
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (IOException | OverlappingFileLockException e) {
                // overlapping: this JVM holds it through another copy of this class (another class loader)
                close(channel);
                throw e instanceof OverlappingFileLockException ? refused(directory, "this process (" + self() + ")")
                        : new IommuException("state directory " + directory + ": cannot lock " + file + ": " + e, e);
            }
            if (lock == null) {
                String other = holderLine(channel);
                close(channel);
                throw refused(directory, other);
            }
            writeHolderLine(channel);
            held = new Held(owner, channel, lock);
            held.holders.add(holder);
            HELD.put(canonical, held);
            return new StateDirectoryLock(canonical, holder);
        }
    }

    /** The directory, as its canonical path. */
    public Path directory() {
        return directory;
    }

    /** Lets the directory go for this holder; the last holder of the process unlocks the file. Idempotent. */
    @Override
    public void close() {
        synchronized (HELD) {
            if (closed) {
                return;
            }
            closed = true;
            Held held = HELD.get(directory);
            if (held == null || !held.holders.remove(holder) || !held.holders.isEmpty()) {
                return;
            }
            HELD.remove(directory);
            try {
                held.lock.release();
            } catch (IOException e) {
                // closing the channel below releases it as well
            }
            close(held.channel);
        }
    }

    private static IommuException refused(Path directory, String who) {
        return new IommuException("state directory " + directory + " is in use by " + who
                + ": one process at a time may use it; wait for that one to end, or use another directory");
    }

    /** This process as the lock file names it: its pid and start time. */
    static String self() {
        ProcessHandle me = ProcessHandle.current();
        return "pid " + me.pid() + me.info().startInstant()
                .map(t -> ", started " + t.truncatedTo(ChronoUnit.SECONDS)).orElse("");
    }

    /** Written after the lock is taken, over what a previous holder wrote; best effort (a full disk). */
    private static void writeHolderLine(FileChannel channel) {
        byte[] line = (self() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer buffer = ByteBuffer.wrap(line);
            long position = 0;
            while (buffer.hasRemaining()) {
                position += channel.write(buffer, position);
            }
            // written over the old line before shortening, so no new block is needed
            channel.truncate(line.length);
            channel.force(false);
        } catch (IOException e) {
            // the refused process then says it could not read who holds the directory
        }
    }

    /**
     * Who holds the lock, as its line says. A new holder may not have written
     * its line yet (the file still names the previous one, which has ended,
     * or nothing), so wait a little for a line naming a live process.
     */
    private static String holderLine(FileChannel channel) {
        long deadline = System.nanoTime() + HOLDER_LINE_WAIT_MILLIS * 1_000_000;
        String named = null;
        do {
            try {
                ByteBuffer buffer = ByteBuffer.allocate(200);
                channel.read(buffer, 0);
                String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
                int end = text.indexOf('\n');
                if (end > 0 && text.startsWith("pid ")) {
                    String[] line = text.substring(4, end).split(", started ", 2);
                    named = "process " + line[0] + (line.length == 2 ? " (started " + line[1] + ")" : "");
                    if (running(line)) {
                        return named;
                    }
                }
                Thread.sleep(20);
            } catch (IOException e) {
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        } while (System.nanoTime() - deadline < 0);
        // a process this one cannot see (another PID namespace) may still hold it: say what the file says
        return named != null ? named : "another process (it has not written its pid in " + FILE + ")";
    }

    /** Whether the line names a process running now that started when it says. */
    private static boolean running(String[] line) {
        try {
            return ProcessHandle.of(Long.parseLong(line[0].trim())).filter(ProcessHandle::isAlive)
                    .filter(p -> line.length < 2 || p.info().startInstant()
                            .map(t -> t.truncatedTo(ChronoUnit.SECONDS).toString().equals(line[1].trim())).orElse(true))
                    .isPresent();
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was written through it that closing could lose
        }
    }
}
