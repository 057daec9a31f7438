package iommu.amdvi;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import iommu.api.GuestId;

/**
 * The driver's AMD-Vi host (v1) I/O page tables, one per guest on a unit, in
 * the unit's memory: four levels of 512 64-bit entries (paging mode 4, 48-bit
 * I/O virtual addresses). An entry has PR in bit 0, the next level in 11:9 (0
 * for a page), the address in 51:12, IR in 61 and IW in 62; a directory entry
 * grants IR and IW, the leaf decides (Linux {@code PM_LEVEL_PDE}). A guest's
 * table is freed when no device table entry points at it and it maps nothing.
 * Not thread-safe: the unit guards it.
 */
final class IoPageTables {

    static final long PR = 1L;
    static final long IR = 1L << 61;
    static final long IW = 1L << 62;
    static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    static final int LEVELS = 4;
    static final int ADDRESS_BITS = 12 + 9 * LEVELS;

    private static final class Space {
        final long root;
        long mappedPages;
        int references;

        Space(long root) {
            this.root = root;
        }
    }

    private final Memory memory;
    private final PageAllocator pages;
    private final Map<GuestId, Space> spaces = new HashMap<>();
    private final Map<Long, GuestId> byRoot = new HashMap<>();

    IoPageTables(Memory memory, PageAllocator pages) {
        this.memory = memory;
        this.pages = pages;
    }

    long rootOf(GuestId guest) {
        return space(guest).root;
    }

    Optional<GuestId> guestAt(long root) {
        return Optional.ofNullable(byRoot.get(root));
    }

    void reference(GuestId guest) {
        space(guest).references++;
    }

    void unreference(GuestId guest) {
        Space s = spaces.get(guest);
        if (s != null && s.references > 0) {
            s.references--;
            releaseIfUnused(guest, s);
        }
    }

    long mappedPages(GuestId guest) {
        Space s = spaces.get(guest);
        return s == null ? 0 : s.mappedPages;
    }

    /** The host page the driver's own walk finds for the IOVA page, or empty. */
    OptionalLong lookup(GuestId guest, long page) {
        Space s = spaces.get(guest);
        if (s == null) {
            return OptionalLong.empty();
        }
        long leaf = leaf(s.root, page, false);
        if (leaf < 0) {
            return OptionalLong.empty();
        }
        long pte = memory.read64(leaf);
        return (pte & PR) != 0 ? OptionalLong.of((pte & ADDRESS_MASK) >>> 12) : OptionalLong.empty();
    }

    /** The first page of the range that is mapped, or empty. */
    OptionalLong firstMapped(GuestId guest, long first, long count) {
        for (long p = first; p < first + count; p++) {
            if (lookup(guest, p).isPresent()) {
                return OptionalLong.of(p);
            }
        }
        return OptionalLong.empty();
    }

    void map(GuestId guest, long firstPage, long hostPage, long count, boolean read, boolean write) {
        Space s = space(guest);
        for (long i = 0; i < count; i++) {
            long leaf = leaf(s.root, firstPage + i, true);
            memory.write64(leaf, (hostPage + i) << 12 | PR | (read ? IR : 0) | (write ? IW : 0));
        }
        s.mappedPages += count;
    }

    /** Clears the range's present leaf entries; returns how many were present. */
    long unmap(GuestId guest, long firstPage, long count) {
        Space s = spaces.get(guest);
        if (s == null) {
            return 0;
        }
        long removed = 0;
        for (long p = firstPage; p < firstPage + count; p++) {
            long leaf = leaf(s.root, p, false);
            if (leaf >= 0 && (memory.read64(leaf) & PR) != 0) {
                memory.write64(leaf, 0);
                removed++;
            }
        }
        s.mappedPages -= removed;
        releaseIfUnused(guest, s);
        return removed;
    }

    private Space space(GuestId guest) {
        return spaces.computeIfAbsent(guest, g -> {
            Space s = new Space(pages.allocate());
            byRoot.put(s.root, g);
            return s;
        });
    }

    private void releaseIfUnused(GuestId guest, Space s) {
        if (s.mappedPages == 0 && s.references == 0) {
            free(s.root, LEVELS);
            spaces.remove(guest);
            byRoot.remove(s.root);
        }
    }

    private void free(long table, int level) {
        if (level > 1) {
            for (int i = 0; i < 512; i++) {
                long pde = memory.read64(table + i * 8L);
                if ((pde & PR) != 0) {
                    free(pde & ADDRESS_MASK, level - 1);
                }
            }
        }
        pages.free(table);
    }

    /** What the guest's table maps, in IOVA order, as {iova page, host page, count}, adjacent runs joined. */
    java.util.List<long[]> runs(GuestId guest) {
        java.util.List<long[]> runs = new java.util.ArrayList<>();
        Space s = spaces.get(guest);
        if (s != null) {
            walk(s.root, LEVELS, 0, runs);
        }
        return runs;
    }

    private void walk(long table, int level, long firstPage, java.util.List<long[]> runs) {
        for (int i = 0; i < 512; i++) {
            long entry = memory.read64(table + i * 8L);
            if ((entry & PR) == 0) {
                continue;
            }
            long page = firstPage + ((long) i << (9 * (level - 1)));
            if (level > 1) {
                walk(entry & ADDRESS_MASK, level - 1, page, runs);
            } else {
                long host = (entry & ADDRESS_MASK) >>> 12;
                long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
                if (last != null && last[0] + last[2] == page && last[1] + last[2] == host) {
                    last[2]++;
                } else {
                    runs.add(new long[] {page, host, 1});
                }
            }
        }
    }

    /** The address of the level-1 entry for the page; -1 when a directory is missing and {@code create} is false. */
    private long leaf(long root, long page, boolean create) {
        long table = root;
        for (int level = LEVELS; level > 1; level--) {
            long at = table + ((page >>> (9 * (level - 1))) & 0x1FF) * 8;
            long pde = memory.read64(at);
            if ((pde & PR) == 0) {
                if (!create) {
                    return -1;
                }
                long next = pages.allocate();
                pde = next | (long) (level - 1) << 9 | PR | IR | IW;
                memory.write64(at, pde);
            }
            table = pde & ADDRESS_MASK;
        }
        return table + (page & 0x1FF) * 8;
    }

    /** Page-granular allocator of table memory in a region of the unit's memory. */
    static final class PageAllocator {
        private final Memory memory;
        private final long base;
        private final long limitPages;
        private final Deque<Long> freed = new ArrayDeque<>();
        private long next;

        PageAllocator(Memory memory, long base, long limitPages) {
            this.memory = memory;
            this.base = base;
            this.limitPages = limitPages;
        }

        long allocate() {
            Long reused = freed.pollFirst();
            if (reused != null) {
                return reused;
            }
            if (next >= limitPages) {
                throw new IllegalStateException("out of I/O page table memory: " + limitPages + " pages in use");
            }
            return base + (next++ << 12);
        }

        void free(long page) {
            memory.clearPage(page);
            freed.push(page);
        }
    }
}
