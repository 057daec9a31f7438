package iommu.vtd;

import java.util.HashMap;
import java.util.Map;

/**
 * A unit's simulated physical memory: a sparse store of 4 KiB pages, read
 * and written little-endian in aligned 32- and 64-bit units, as the remapping
 * hardware fetches its root, context and page-table entries and its
 * invalidation descriptors. A page never written reads as zeros.
 *
 * <p>The pages live in a {@link PageStore}: on the heap, or in a unit's
 * table file ({@link TableFile}, for {@code --state DIR}), where they outlive
 * the process. Not thread-safe: the unit guards it.
 */
final class PhysicalMemory {

    static final int PAGE_SHIFT = 12;
    static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    static final int QWORDS_PER_PAGE = PAGE_SIZE / 8;

    /**
     * Where the pages are kept, by page frame number, as 512 little-endian
     * quadwords each; a page never written reads as zeros. Every write goes
     * through the store, so a store may keep the pages in a file.
     */
    interface PageStore extends AutoCloseable {
        long read(long pfn, int index);

        void write(long pfn, int index, long value);

        /** Makes the page read as zeros. */
        void zero(long pfn);

        /**
         * The page is about to be handed out for tables: a store that must find
         * room for it (a file) does so now, so that no later write to it fails.
         * The heap store has room.
         *
         * @throws iommu.api.IommuException one line when there is none (no space left); nothing changed
         */
        default void reserve(long pfn) {
        }

        /** Releases what the store holds open (a mapped file); the heap store has nothing to release. */
        @Override
        default void close() {
        }
    }

    /** Pages on the heap. */
    static final class HeapPageStore implements PageStore {
        private final Map<Long, long[]> pages = new HashMap<>();

        @Override
        public long read(long pfn, int index) {
            long[] page = pages.get(pfn);
            return page == null ? 0 : page[index];
        }

        @Override
        public void write(long pfn, int index, long value) {
            long[] page = pages.get(pfn);
            if (page == null) {
                if (value == 0) {
                    return;
                }
                page = new long[QWORDS_PER_PAGE];
                pages.put(pfn, page);
            }
            page[index] = value;
        }

        @Override
        public void zero(long pfn) {
            pages.remove(pfn);
        }
    }

    private final PageStore store;
    private final int addressBits;

    /** @param addressBits the host address width: addresses from 2^addressBits up do not exist */
    PhysicalMemory(int addressBits) {
        this(addressBits, new HeapPageStore());
    }

    PhysicalMemory(int addressBits, PageStore store) {
        if (addressBits < PAGE_SHIFT + 1 || addressBits > 63) {
            throw new IllegalArgumentException("address width " + addressBits + " bits: expected 13..63");
        }
        this.addressBits = addressBits;
        this.store = store;
    }

    int addressBits() {
        return addressBits;
    }

    /** Whether {@code address} is backed by memory (below 2^addressBits). */
    boolean exists(long address) {
        return address >= 0 && (address >>> addressBits) == 0;
    }

    long read64(long address) {
        check(address, 8);
        return store.read(address >>> PAGE_SHIFT, index(address));
    }

    void write64(long address, long value) {
        check(address, 8);
        store.write(address >>> PAGE_SHIFT, index(address), value);
    }

    /** The doubleword at {@code address}: the low half of its quadword at offset 0, the high half at 4. */
    int read32(long address) {
        check(address, 4);
        long qword = read64(address & ~7L);
        return (int) (qword >>> ((address & 4) * 8));
    }

    void write32(long address, int value) {
        check(address, 4);
        long aligned = address & ~7L;
        int shift = (int) (address & 4) * 8;
        long qword = read64(aligned);
        qword = (qword & ~(0xFFFF_FFFFL << shift)) | ((value & 0xFFFF_FFFFL) << shift);
        write64(aligned, qword);
    }

    /** Zeros the page holding {@code address} (a sparse store simply forgets it). */
    void zeroPage(long address) {
        check(address, 1);
        store.zero(address >>> PAGE_SHIFT);
    }

    /** Makes room for the page holding {@code address} before it is handed out ({@link PageStore#reserve}). */
    void reserve(long address) {
        check(address, 1);
        store.reserve(address >>> PAGE_SHIFT);
    }

    PageStore store() {
        return store;
    }

    private static int index(long address) {
        return (int) ((address & (PAGE_SIZE - 1)) >>> 3);
    }

    private void check(long address, int size) {
        if (!exists(address)) {
            throw new IllegalArgumentException(String.format(
                    "physical address 0x%x does not exist: expected below 2^%d", address, addressBits));
        }
        if ((address & (size - 1)) != 0) {
            throw new IllegalArgumentException(String.format(
                    "physical address 0x%x not aligned to its %d-byte access", address, size));
        }
    }
}
