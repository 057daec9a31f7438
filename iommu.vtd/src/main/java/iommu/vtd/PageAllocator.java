package iommu.vtd;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The driver side's allocator of zeroed 4 KiB pages for the tables it builds
 * in a unit's simulated memory (root and context tables, I/O page tables, the
 * invalidation queue and its status page), from a region firmware would keep
 * for it. Freed pages are zeroed and reused, most recently freed first, as a
 * real allocator would hand them out: a table freed while the hardware may
 * still cache a pointer to it becomes someone else's table. Not thread-safe:
 * the unit guards it.
 */
final class PageAllocator {

    private final PhysicalMemory memory;
    private final long base;
    private final long limitPages;
    private final Deque<Long> free = new ArrayDeque<>();
    private long nextPage;
    private long inUse;

    PageAllocator(PhysicalMemory memory, long base, long limitPages) {
        if ((base & (PhysicalMemory.PAGE_SIZE - 1)) != 0 || base <= 0) {
            throw new IllegalArgumentException(String.format("region base 0x%x: expected a nonzero 4 KiB-aligned address", base));
        }
        if (limitPages < 1 || !memory.exists(base + (limitPages << PhysicalMemory.PAGE_SHIFT) - 1)) {
            throw new IllegalArgumentException(String.format("region of %d pages from 0x%x does not fit below 2^%d",
                    limitPages, base, memory.addressBits()));
        }
        this.memory = memory;
        this.base = base;
        this.limitPages = limitPages;
    }

    /** A zeroed page's physical address. */
    long allocate() {
        long address;
        if (!free.isEmpty()) {
            address = free.pop();
        } else if (nextPage < limitPages) {
            address = base + (nextPage << PhysicalMemory.PAGE_SHIFT);
            // room found before the page is handed out: a file that cannot grow refuses here, nothing written yet
            memory.reserve(address);
            nextPage++;
            // never handed out yet in this run; in a kept table file it may hold what a killed process wrote last
            memory.zeroPage(address);
        } else {
            throw new IllegalStateException(String.format(
                    "table memory exhausted: all %d pages from 0x%x are in use", limitPages, base));
        }
        inUse++;
        return address;
    }

    void free(long address) {
        if (!inRegion(address)) {
            throw new IllegalArgumentException(String.format("page 0x%x was not allocated here", address));
        }
        memory.zeroPage(address);
        free.push(address);
        inUse--;
    }

    /**
     * Takes over the region as found in memory kept from a previous run:
     * {@code used} pages are allocated; every other page below the highest of
     * them is free and zeroed (it may hold what a killed process was freeing).
     */
    void inherit(java.util.Set<Long> used) {
        long high = 0;
        for (long address : used) {
            if (!inRegion(address)) {
                throw new IllegalArgumentException(String.format("page 0x%x is not a page of the region", address));
            }
            high = Math.max(high, ((address - base) >>> PhysicalMemory.PAGE_SHIFT) + 1);
        }
        free.clear();
        for (long page = high - 1; page >= 0; page--) {
            long address = base + (page << PhysicalMemory.PAGE_SHIFT);
            if (!used.contains(address)) {
                memory.zeroPage(address);
                free.push(address);
            }
        }
        nextPage = high;
        inUse = used.size();
    }

    /** Whether the address is a page of the region. */
    boolean inRegion(long address) {
        return address >= base && address < base + (limitPages << PhysicalMemory.PAGE_SHIFT)
                && (address & (PhysicalMemory.PAGE_SIZE - 1)) == 0;
    }

    /** How many pages are allocated now. */
    long pagesInUse() {
        return inUse;
    }
}
