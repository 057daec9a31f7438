package iommu.api.spi;

import java.util.BitSet;

/**
 * A bitmap of domain ids in use, with a summary level of non-full words so
 * that finding the lowest free id costs O(size / 4096) rather than a scan of
 * every id: flat in practice from 256 to 65,536 ids. A helper for strategy
 * implementations; not thread-safe (allocators are called one at a time).
 */
public final class DomainIdBitmap {

    private final int size;
    private final long[] words;
    /** Bit w set when words[w] has a clear bit below {@link #size}. */
    private final long[] notFull;
    private int used;

    /** A bitmap of {@code size} ids, all free. */
    public DomainIdBitmap(int size) {
        if (size < 1 || size > 0x10000) {
            throw new IllegalArgumentException("bitmap size " + size + " out of range: expected 1..65536");
        }
        this.size = size;
        this.words = new long[(size + 63) >>> 6];
        this.notFull = new long[(words.length + 63) >>> 6];
        for (int w = 0; w < words.length; w++) {
            notFull[w >>> 6] |= 1L << w;
        }
        // ids at and beyond size do not exist: mark them taken in the last word
        int tail = size & 63;
        if (tail != 0) {
            words[words.length - 1] = -1L << tail;
        }
    }

    public int size() {
        return size;
    }

    /** How many ids are set. */
    public int used() {
        return used;
    }

    public boolean isSet(int id) {
        checkRange(id);
        return (words[id >>> 6] & (1L << id)) != 0;
    }

    /** Sets the id; it must be free. */
    public void set(int id) {
        checkRange(id);
        int w = id >>> 6;
        long bit = 1L << id;
        if ((words[w] & bit) != 0) {
            throw new IllegalStateException("domain id " + id + " is already in use");
        }
        words[w] |= bit;
        used++;
        if (words[w] == -1L) {
            notFull[w >>> 6] &= ~(1L << w);
        }
    }

    /** Clears the id; it must be set. */
    public void clear(int id) {
        checkRange(id);
        int w = id >>> 6;
        long bit = 1L << id;
        if ((words[w] & bit) == 0) {
            throw new IllegalStateException("domain id " + id + " is not in use");
        }
        words[w] &= ~bit;
        used--;
        notFull[w >>> 6] |= 1L << w;
    }

    /** The lowest free id, or -1 when every id is set. */
    public int lowestFree() {
        for (int s = 0; s < notFull.length; s++) {
            if (notFull[s] != 0) {
                int w = (s << 6) + Long.numberOfTrailingZeros(notFull[s]);
                return (w << 6) + Long.numberOfTrailingZeros(~words[w]);
            }
        }
        return -1;
    }

    /** Sets and returns the lowest free id, or -1 when every id is set. */
    public int allocateLowest() {
        int id = lowestFree();
        if (id >= 0) {
            set(id);
        }
        return id;
    }

    /** The set ids as a BitSet (a copy). */
    public BitSet toBitSet() {
        BitSet bits = BitSet.valueOf(words);
        bits.clear(size, words.length << 6);
        return bits;
    }

    private void checkRange(int id) {
        if (id < 0 || id >= size) {
            throw new IllegalArgumentException("domain id " + id + " out of range: expected 0.." + (size - 1));
        }
    }
}
