package iommu.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import iommu.api.IommuException;

/**
 * One guest's I/O mappings as non-overlapping runs of 4 KiB pages, so that a
 * mapping of a million pages costs one entry. The platform replays them onto
 * every unit the guest reaches.
 */
final class GuestMappings {

    /** {@code pages} pages from I/O page {@code iovaPage} to host page {@code hostPage}. */
    record Run(long iovaPage, long hostPage, long pages) {
        long iova() {
            return iovaPage << 12;
        }

        long hostAddress() {
            return hostPage << 12;
        }

        long endPage() {
            return iovaPage + pages;
        }
    }

    private final TreeMap<Long, Run> runs = new TreeMap<>();

    /** Checks a range argument: aligned, non-empty, inside a 64-bit I/O space. */
    static void checkRange(long iova, long pages) {
        if ((iova & 0xFFF) != 0) {
            throw new IommuException(String.format("IOVA 0x%x is not 4 KiB aligned: expected a multiple of 0x1000", iova));
        }
        if (pages < 1) {
            throw new IommuException("page count " + pages + " out of range: expected at least 1");
        }
        long firstPage = iova >>> 12;
        if (pages > (1L << 52) - firstPage) {
            throw new IommuException(String.format("%d pages from IOVA 0x%x run past the end of the 64-bit I/O space",
                    pages, iova));
        }
    }

    /** The first mapped page overlapping the range, if any. */
    Run overlap(long iova, long pages) {
        long first = iova >>> 12;
        long end = first + pages;
        Map.Entry<Long, Run> before = runs.floorEntry(first);
        if (before != null && before.getValue().endPage() > first) {
            return before.getValue();
        }
        Map.Entry<Long, Run> after = runs.ceilingEntry(first);
        return after != null && after.getKey() < end ? after.getValue() : null;
    }

    void add(long iova, long hostAddress, long pages) {
        runs.put(iova >>> 12, new Run(iova >>> 12, hostAddress >>> 12, pages));
    }

    /** Removes the mapped parts of the range, splitting runs at its edges. */
    void remove(long iova, long pages) {
        long first = iova >>> 12;
        long end = first + pages;
        Map.Entry<Long, Run> before = runs.floorEntry(first);
        if (before != null && before.getValue().endPage() > first) {
            Run r = before.getValue();
            runs.remove(r.iovaPage());
            if (r.iovaPage() < first) {
                runs.put(r.iovaPage(), new Run(r.iovaPage(), r.hostPage(), first - r.iovaPage()));
            }
            if (r.endPage() > end) {
                runs.put(end, new Run(end, r.hostPage() + (end - r.iovaPage()), r.endPage() - end));
            }
        }
        for (Run r : List.copyOf(runs.subMap(first, end).values())) {
            runs.remove(r.iovaPage());
            if (r.endPage() > end) {
                runs.put(end, new Run(end, r.hostPage() + (end - r.iovaPage()), r.endPage() - end));
            }
        }
    }

    List<Run> runs() {
        return new ArrayList<>(runs.values());
    }

    boolean isEmpty() {
        return runs.isEmpty();
    }
}
