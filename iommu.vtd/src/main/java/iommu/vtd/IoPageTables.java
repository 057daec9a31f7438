package iommu.vtd;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import iommu.api.GuestId;

/**
 * Each guest's second-level I/O page table on this unit, built by the driver
 * side in the unit's simulated memory: {@code levels} levels of 512 64-bit
 * entries (R bit 0, W bit 1, address 51:12), the root being what the
 * guest's context entries point at. The hardware walks the same memory; the
 * bookkeeping here (which root is whose, how many pages and context entries
 * use it) is what a driver keeps beside its tables, never consulted by a
 * translation. A guest's tables are freed when it has no mapped page and no
 * context entry left. Not thread-safe: the unit guards it.
 */
final class IoPageTables {

    /** Where the driver notes which root is whose, beside the tables: a table file keeps it, the heap forgets it. */
    interface Directory {
        Directory NONE = (guest, root) -> {
        };

        /** The guest's table root, 0 when it has none any more. */
        void record(GuestId guest, long root);
    }

    private static final class Space {
        final long root;
        long mappedPages;
        int contextEntries;

        Space(long root) {
            this.root = root;
        }
    }

    private final PhysicalMemory memory;
    private final PageAllocator pages;
    private final int levels;
    private final Directory directory;
    private final Map<GuestId, Space> spaces = new HashMap<>();
    private final Map<Long, GuestId> byRoot = new HashMap<>();

    IoPageTables(PhysicalMemory memory, PageAllocator pages, int levels) {
        this(memory, pages, levels, Directory.NONE);
    }

    IoPageTables(PhysicalMemory memory, PageAllocator pages, int levels, Directory directory) {
        if (levels < 2 || levels > 5) {
            throw new IllegalArgumentException(levels + " page-table levels: expected 2..5");
        }
        this.memory = memory;
        this.pages = pages;
        this.levels = levels;
        this.directory = directory;
    }

    int levels() {
        return levels;
    }

    /** The root of the guest's table, allocated (empty) when it has none. */
    long rootOf(GuestId guest) {
        return space(guest).root;
    }

    /** The guest whose table has this root. */
    Optional<GuestId> guestAt(long root) {
        return Optional.ofNullable(byRoot.get(root));
    }

    /** One more context entry points at the guest's table. */
    void reference(GuestId guest) {
        space(guest).contextEntries++;
    }

    /** One context entry less points at the guest's table; frees it when nothing uses it. */
    void unreference(GuestId guest) {
        Space space = spaces.get(guest);
        if (space != null && space.contextEntries > 0) {
            space.contextEntries--;
            releaseIfUnused(guest, space);
        }
    }

    /** What the driver's own walk finds for the IOVA page: the host page, or empty. */
    OptionalLong lookup(GuestId guest, long iovaPage) {
        Space space = spaces.get(guest);
        if (space == null) {
            return OptionalLong.empty();
        }
        long leaf = leafEntryAddress(space.root, iovaPage, false);
        if (leaf < 0) {
            return OptionalLong.empty();
        }
        long pte = memory.read64(leaf);
        return PageTableEntry.present(pte) ? OptionalLong.of(PageTableEntry.address(pte) >>> PhysicalMemory.PAGE_SHIFT)
                : OptionalLong.empty();
    }

    /** The first already-mapped page of the range, or empty. */
    OptionalLong firstMapped(GuestId guest, long firstPage, long count) {
        Space space = spaces.get(guest);
        if (space == null) {
            return OptionalLong.empty();
        }
        for (long p = firstPage; p < firstPage + count; p++) {
            long leaf = leafEntryAddress(space.root, p, false);
            if (leaf < 0) {
                // no leaf table here: skip to the next one
                p = (p | 0x1FF);
                continue;
            }
            if (PageTableEntry.present(memory.read64(leaf))) {
                return OptionalLong.of(p);
            }
        }
        return OptionalLong.empty();
    }

    /** Maps the range (all of it unmapped), read and write as asked. */
    void map(GuestId guest, long firstPage, long firstHostPage, long count, boolean read, boolean write) {
        Space space = space(guest);
        long done = 0;
        try {
            for (; done < count; done++) {
                long leaf = leafEntryAddress(space.root, firstPage + done, true);
                memory.write64(leaf, PageTableEntry.of((firstHostPage + done) << PhysicalMemory.PAGE_SHIFT, read,
                        write));
            }
        } catch (RuntimeException e) {
            // all or nothing (a table page that could not be had, say): what this call mapped goes again
            space.mappedPages += done;
            unmap(guest, firstPage, done);
            throw e;
        }
        space.mappedPages += count;
    }

    /** Clears what is mapped of the range; returns how many pages were. */
    long unmap(GuestId guest, long firstPage, long count) {
        Space space = spaces.get(guest);
        if (space == null) {
            return 0;
        }
        long removed = 0;
        for (long p = firstPage; p < firstPage + count; p++) {
            long leaf = leafEntryAddress(space.root, p, false);
            if (leaf < 0) {
                p = (p | 0x1FF);
                continue;
            }
            if (PageTableEntry.present(memory.read64(leaf))) {
                memory.write64(leaf, 0);
                removed++;
            }
        }
        space.mappedPages -= removed;
        releaseIfUnused(guest, space);
        return removed;
    }

    /**
     * Takes over a guest's table found in memory (kept from a previous run):
     * walks it, counting the pages mapped and adding every table page to
     * {@code tablePages}.
     *
     * @param inRegion whether an address may hold a table
     * @throws IllegalArgumentException when an entry points outside the region,
     *         or at a table page already seen (another guest's, or a loop)
     */
    void inherit(GuestId guest, long root, java.util.function.LongPredicate inRegion, java.util.Set<Long> tablePages) {
        if (!inRegion.test(root) || !tablePages.add(root)) {
            throw new IllegalArgumentException(String.format(
                    "guest %s's I/O page-table root 0x%x is %s", guest, root,
                    inRegion.test(root) ? "a table page already in use" : "not a page of the table region"));
        }
        Space space = new Space(root);
        space.mappedPages = walk(guest, root, levels, inRegion, tablePages);
        spaces.put(guest, space);
        byRoot.put(root, guest);
    }

    private long walk(GuestId guest, long table, int level, java.util.function.LongPredicate inRegion,
            java.util.Set<Long> tablePages) {
        long mapped = 0;
        for (int i = 0; i < PageTableEntry.ENTRIES; i++) {
            long pte = memory.read64(table + (long) i * PageTableEntry.SIZE);
            if (!PageTableEntry.present(pte)) {
                continue;
            }
            if (level == 1) {
                mapped++;
                continue;
            }
            long next = PageTableEntry.address(pte);
            if (!inRegion.test(next) || !tablePages.add(next)) {
                throw new IllegalArgumentException(String.format(
                        "guest %s's level-%d table 0x%x, entry %d, points at 0x%x, %s", guest, level, table, i, next,
                        inRegion.test(next) ? "a table page already in use" : "not a page of the table region"));
            }
            mapped += walk(guest, next, level - 1, inRegion, tablePages);
        }
        return mapped;
    }

    /**
     * What the guest's table maps, in IOVA order: runs of {iova page, host
     * page, count}, adjacent pages with adjacent host pages joined.
     */
    java.util.List<long[]> runs(GuestId guest) {
        java.util.List<long[]> runs = new java.util.ArrayList<>();
        Space space = spaces.get(guest);
        if (space != null) {
            collect(space.root, levels, 0, runs);
        }
        return runs;
    }

    private void collect(long table, int level, long firstPage, java.util.List<long[]> runs) {
        long span = 1L << (9 * (level - 1)); // pages under one entry of this level
        for (int i = 0; i < PageTableEntry.ENTRIES; i++) {
            long pte = memory.read64(table + (long) i * PageTableEntry.SIZE);
            if (!PageTableEntry.present(pte)) {
                continue;
            }
            long page = firstPage + i * span;
            if (level > 1) {
                collect(PageTableEntry.address(pte), level - 1, page, runs);
                continue;
            }
            long host = PageTableEntry.address(pte) >>> PhysicalMemory.PAGE_SHIFT;
            long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && last[0] + last[2] == page && last[1] + last[2] == host) {
                last[2]++;
            } else {
                runs.add(new long[] {page, host, 1});
            }
        }
    }

    /** Every guest with a table here. */
    java.util.Set<GuestId> guests() {
        return java.util.Set.copyOf(spaces.keySet());
    }

    /**
     * After an inherit: frees the guest's table, mapped pages and all, when no
     * context entry uses it. Nothing can reach such a table (a killed attach
     * wrote the guest's pages before its entry, a killed detach cleared the
     * entry before the pages), and the next attach there must not find pages
     * the guest unmapped since.
     */
    void releaseIfUnreferenced(GuestId guest) {
        Space space = spaces.get(guest);
        if (space != null && space.contextEntries == 0) {
            space.mappedPages = 0;
            releaseIfUnused(guest, space);
        }
    }

    long mappedPages(GuestId guest) {
        Space space = spaces.get(guest);
        return space == null ? 0 : space.mappedPages;
    }

    private Space space(GuestId guest) {
        Space space = spaces.get(guest);
        if (space == null) {
            space = new Space(pages.allocate());
            // noted before any context entry points at it, so a table file never has an entry without its guest
            directory.record(guest, space.root);
            spaces.put(guest, space);
            byRoot.put(space.root, guest);
        }
        return space;
    }

    /**
     * The address of the level-1 entry for the page, allocating missing
     * tables when {@code create}; -1 when a table is missing and not created.
     */
    private long leafEntryAddress(long root, long iovaPage, boolean create) {
        long iova = iovaPage << PhysicalMemory.PAGE_SHIFT;
        long table = root;
        for (int level = levels; level > 1; level--) {
            long address = table + (long) PageTableEntry.index(iova, level) * PageTableEntry.SIZE;
            long pte = memory.read64(address);
            if (!PageTableEntry.present(pte)) {
                if (!create) {
                    return -1;
                }
                long next = pages.allocate();
                // non-leaf entries grant both rights; the leaf decides (as Linux's dma_pte does)
                pte = PageTableEntry.of(next, true, true);
                memory.write64(address, pte);
            }
            table = PageTableEntry.address(pte);
        }
        return table + (long) PageTableEntry.index(iova, 1) * PageTableEntry.SIZE;
    }

    private void releaseIfUnused(GuestId guest, Space space) {
        if (space.mappedPages == 0 && space.contextEntries == 0) {
            // forgotten before the pages are freed: a kill in between leaves unreachable pages, which are free
            directory.record(guest, 0);
            freeTable(space.root, levels);
            spaces.remove(guest);
            byRoot.remove(space.root);
        }
    }

    private void freeTable(long table, int level) {
        if (level > 1) {
            for (int i = 0; i < PageTableEntry.ENTRIES; i++) {
                long pte = memory.read64(table + (long) i * PageTableEntry.SIZE);
                if (PageTableEntry.present(pte)) {
                    freeTable(PageTableEntry.address(pte), level - 1);
                }
            }
        }
        pages.free(table);
    }
}
