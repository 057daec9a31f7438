package iommu.vtd;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

import iommu.api.GuestId;

/**
 * Each guest's I/O page table on this unit: IOVA page number to host page
 * number, 4 KiB pages. Not thread-safe: the unit guards it.
 */
final class IoPageTables {
    private final Map<GuestId, Map<Long, Long>> tables = new HashMap<>();

    OptionalLong lookup(GuestId guest, long iovaPage) {
        Map<Long, Long> table = tables.get(guest);
        Long host = table == null ? null : table.get(iovaPage);
        return host == null ? OptionalLong.empty() : OptionalLong.of(host);
    }

    /** The first already-mapped page of the range, or empty. */
    OptionalLong firstMapped(GuestId guest, long firstPage, long pages) {
        Map<Long, Long> table = tables.get(guest);
        if (table == null) {
            return OptionalLong.empty();
        }
        for (long p = firstPage; p < firstPage + pages; p++) {
            if (table.containsKey(p)) {
                return OptionalLong.of(p);
            }
        }
        return OptionalLong.empty();
    }

    void map(GuestId guest, long firstPage, long firstHostPage, long pages) {
        Map<Long, Long> table = tables.computeIfAbsent(guest, g -> new HashMap<>());
        for (long i = 0; i < pages; i++) {
            table.put(firstPage + i, firstHostPage + i);
        }
    }

    /** Removes what is mapped of the range; returns how many pages were. */
    long unmap(GuestId guest, long firstPage, long pages) {
        Map<Long, Long> table = tables.get(guest);
        if (table == null) {
            return 0;
        }
        long removed = 0;
        for (long p = firstPage; p < firstPage + pages; p++) {
            if (table.remove(p) != null) {
                removed++;
            }
        }
        if (table.isEmpty()) {
            tables.remove(guest);
        }
        return removed;
    }

    long mappedPages(GuestId guest) {
        Map<Long, Long> table = tables.get(guest);
        return table == null ? 0 : table.size();
    }
}
