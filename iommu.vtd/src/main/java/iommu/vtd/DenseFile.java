package iommu.vtd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Optional;

import iommu.api.spi.support.WriteFailure;

/**
 * A file of pages, memory-mapped 1 MiB at a time, that never has holes: it
 * grows by writing zeros when a page beyond it is first needed, so a full
 * file system answers that write ("no space left", which the caller refuses
 * cleanly) rather than a later memory write into a hole it cannot back
 * (SIGBUS, which kills the JVM). Only what the file holds is mapped, so a
 * mapping never makes it longer. Not thread-safe: the unit guards it.
 */
final class DenseFile {

    /** Pages per mapping and per growth of the file. */
    static final int CHUNK_PAGES = 256;
    static final long CHUNK_BYTES = (long) CHUNK_PAGES * PhysicalMemory.PAGE_SIZE;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect((int) CHUNK_BYTES).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;
    /** Whose file it is and the state directory it is in, for the message when it cannot grow. */
    private final String owner;
    private final Path stateDirectory;
    private final MappedByteBuffer[] chunks;
    /** Chunks the file holds, every byte written. */
    private long allocatedChunks;
    private volatile boolean closed;

    DenseFile(Path path, FileChannel channel, String owner, Path stateDirectory, long pages) {
        this.path = path;
        this.channel = channel;
        this.owner = owner;
        this.stateDirectory = stateDirectory;
        this.chunks = new MappedByteBuffer[(int) ((pages + CHUNK_PAGES - 1) / CHUNK_PAGES)];
    }

    Path path() {
        return path;
    }

    /** Empties the file: it holds nothing until a page is needed. */
    void truncate() throws IOException {
        channel.truncate(0);
        allocatedChunks = 0;
    }

    /**
     * Takes over the file as it is, filling what may be holes: a file of an
     * earlier version was sparse, and a hole reads as zeros, so unless
     * {@code dense} every page of zeros is written again (pages with data have
     * their blocks); a partial last chunk is completed.
     *
     * @throws IOException when a write fails (no space left): the file stays as it was, holes aside
     */
    void takeOver(boolean dense) throws IOException {
        long size = channel.size();
        long whole = (size + CHUNK_BYTES - 1) / CHUNK_BYTES * CHUNK_BYTES;
        if (!dense) {
            ByteBuffer page = ByteBuffer.allocate(PhysicalMemory.PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            for (long at = 0; at + PhysicalMemory.PAGE_SIZE <= size; at += PhysicalMemory.PAGE_SIZE) {
                page.clear();
                while (page.hasRemaining() && channel.read(page, at + page.position()) > 0) {
                    // a short read: go on from where it stopped
                }
                if (isZero(page)) {
                    writeZeros(at, PhysicalMemory.PAGE_SIZE);
                }
            }
        }
        if (whole > size) {
            writeZeros(size, whole - size);
        }
        allocatedChunks = whole / CHUNK_BYTES;
    }

    private static boolean isZero(ByteBuffer page) {
        for (int i = 0; i + 8 <= page.position(); i += 8) {
            if (page.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private void writeZeros(long from, long length) throws IOException {
        long at = from;
        while (at < from + length) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), from + length - at));
            while (zeros.hasRemaining()) {
                at += channel.write(zeros, at);
            }
        }
    }

    /**
     * Writes the file's chunks up to the one holding the page, so the file
     * system finds their blocks now; on failure the file is cut back to what
     * it held.
     *
     * @throws iommu.api.IommuException one line naming the directory ("no space left" when it is full)
     */
    void allocate(long page) {
        checkOpen();
        long chunk = page / CHUNK_PAGES;
        if (chunk < allocatedChunks) {
            return;
        }
        try {
            writeZeros(allocatedChunks * CHUNK_BYTES, (chunk + 1 - allocatedChunks) * CHUNK_BYTES);
            allocatedChunks = chunk + 1;
        } catch (IOException e) {
            try {
                channel.truncate(allocatedChunks * CHUNK_BYTES); // gives back what the failed write took
            } catch (IOException ignored) {
                // what lies beyond the chunks held is never mapped nor read
            }
            throw WriteFailure.of(stateDirectory, owner + "'s table file "
                    + stateDirectory.relativize(path.toAbsolutePath())
                    + " (growing it to "
                    + (chunk + 1) * CHUNK_BYTES / (1 << 20) + " MiB)", "nothing was written to it", e);
        }
    }

    /** The mapping holding the page; empty when the file does not hold it and {@code grow} is false. */
    Optional<MappedByteBuffer> mapped(long page, boolean grow) {
        checkOpen();
        int index = (int) (page / CHUNK_PAGES);
        MappedByteBuffer chunk = chunks[index];
        if (chunk == null) {
            if (index >= allocatedChunks) {
                if (!grow) {
                    return Optional.empty();
                }
                allocate(page);
            }
            try {
                chunk = channel.map(FileChannel.MapMode.READ_WRITE, index * CHUNK_BYTES, CHUNK_BYTES);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("table file " + path + ": " + e.getMessage(), e);
            }
            chunk.order(ByteOrder.LITTLE_ENDIAN);
            chunks[index] = chunk;
        }
        return Optional.of(chunk);
    }

    /** Where the quadword {@code index} of the page is in its chunk's mapping. */
    static int offset(long page, int index) {
        return (int) ((page % CHUNK_PAGES) * PhysicalMemory.PAGE_SIZE + (long) index * 8);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("table file " + path + " is closed: its unit was unregistered");
        }
    }

    /** Drops the mappings and closes the file; the pages stay in it. */
    void close() {
        closed = true;
        java.util.Arrays.fill(chunks, null);
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was buffered by the channel: the mapped pages are already the file's
        }
    }
}
