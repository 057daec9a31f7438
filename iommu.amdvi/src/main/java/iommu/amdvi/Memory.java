package iommu.amdvi;

import java.util.HashMap;
import java.util.Map;

/**
 * A unit's simulated system memory: sparse 4 KiB pages of little-endian
 * quadwords, as the IOMMU fetches device table entries, commands and page
 * table entries and writes events and completion-wait stores. A page never
 * written reads as zeros. Not thread-safe: the unit guards it.
 */
final class Memory {

    static final int PAGE_SHIFT = 12;
    static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** System addresses have at most 52 bits on AMD-Vi. */
    static final int ADDRESS_BITS = 52;

    private final Map<Long, long[]> pages = new HashMap<>();

    long read64(long address) {
        check(address);
        long[] page = pages.get(address >>> PAGE_SHIFT);
        return page == null ? 0 : page[(int) (address & (PAGE_SIZE - 1)) >>> 3];
    }

    void write64(long address, long value) {
        check(address);
        long[] page = pages.get(address >>> PAGE_SHIFT);
        if (page == null) {
            if (value == 0) {
                return;
            }
            page = new long[(int) (PAGE_SIZE / 8)];
            pages.put(address >>> PAGE_SHIFT, page);
        }
        page[(int) (address & (PAGE_SIZE - 1)) >>> 3] = value;
    }

    /** Zeroes the page holding {@code address} (and frees it). */
    void clearPage(long address) {
        pages.remove(address >>> PAGE_SHIFT);
    }

    int pageCount() {
        return pages.size();
    }

    private static void check(long address) {
        if ((address & 7) != 0 || address < 0 || address >>> ADDRESS_BITS != 0) {
            throw new IllegalArgumentException(String.format(
                    "memory access at 0x%x: expected an 8-byte aligned address below 2^%d", address, ADDRESS_BITS));
        }
    }
}
