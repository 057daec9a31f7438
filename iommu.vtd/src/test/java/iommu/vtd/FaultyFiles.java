package iommu.vtd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Channels on the real file system whose writes can be made to fail as a
 * full disk fails them, for the tests of every write point of the table files
 * and the journal: each write, force, truncation and rename is a numbered
 * write point; from the chosen one on (or at it alone) it throws
 * {@code IOException("No space left on device")}, a write having written half
 * its bytes first, as a file system that fills up mid-write does. Truncation
 * gives space back, so a full disk still allows it. Thread-safe.
 */
public final class FaultyFiles {

    /** How the file system fails from the chosen write point. */
    public enum Mode {
        /** Every write point from the chosen one fails, truncations excepted: the disk is full. */
        FULL,
        /** Only the chosen write point fails (a truncation too). */
        ONCE,
        /** Every write point from the chosen one fails, truncations too: the file system went read-only. */
        STUCK
    }

    private final int failAt;
    private final Mode mode;
    private int points;
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());

    /** @param failAt the write point (from 1) to fail, 0 for none */
    public FaultyFiles(int failAt, Mode mode) {
        this.failAt = failAt;
        this.mode = mode;
    }

    /** A channel of the file, its writes counted and failed as told. */
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return new Channel(FileChannel.open(file, options), file);
    }

    /** A rename, counted as a write point. */
    public void point(String what) throws IOException {
        check(what, false);
    }

    /** Write points passed so far. */
    public synchronized int points() {
        return points;
    }

    /** What each write point was, in order ("write journal", "force vtd", ...). */
    public List<String> log() {
        return List.copyOf(log);
    }

    /** Whether the write point being passed now fails; counts it. */
    private synchronized boolean fails(String what, boolean truncation) {
        points++;
        log.add(what);
        if (failAt == 0 || points < failAt) {
            return false;
        }
        return switch (mode) {
            case ONCE -> points == failAt;
            case FULL -> !truncation;
            case STUCK -> true;
        };
    }

    private void check(String what, boolean truncation) throws IOException {
        if (fails(what, truncation)) {
            throw new IOException("No space left on device");
        }
    }

    private final class Channel extends FileChannel {
        private final FileChannel real;
        private final String name;

        Channel(FileChannel real, Path file) {
            this.real = real;
            this.name = file.getFileName().toString();
        }

        private int write(ByteBuffer src, long position, boolean positioned) throws IOException {
            if (fails("write " + name, false)) {
                if (src.remaining() > 1) {
                    ByteBuffer half = src.duplicate();
                    half.limit(src.position() + src.remaining() / 2);
                    int n = positioned ? real.write(half, position) : real.write(half);
                    src.position(src.position() + n);
                }
                throw new IOException("No space left on device");
            }
            return positioned ? real.write(src, position) : real.write(src);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return write(src, 0, false);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return write(src, position, true);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            check("write " + name, false);
            return real.write(srcs, offset, length);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            check("truncate " + name, true);
            real.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            check("force " + name, false);
            real.force(metaData);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            check("write " + name, false);
            return real.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return real.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
