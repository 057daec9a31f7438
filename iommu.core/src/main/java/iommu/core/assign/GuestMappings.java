package iommu.core.assign;

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
public final class GuestMappings {

    /** {@code pages} pages from I/O page {@code iovaPage} to host page {@code hostPage}. */
    public record Run(long iovaPage, long hostPage, long pages) {
        public long iova() {
            return iovaPage << 12;
        }

        public long hostAddress() {
            return hostPage << 12;
        }

        public long endPage() {
            return iovaPage + pages;
        }
    }

    private final TreeMap<Long, Run> runs = new TreeMap<>();

    /** Checks a range argument: aligned, non-empty, inside a 64-bit I/O space. */
    public static void checkRange(long iova, long pages) {
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
    public Run overlap(long iova, long pages) {
        long first = iova >>> 12;
        long end = first + pages;
        Map.Entry<Long, Run> before = runs.floorEntry(first);
        if (before != null && before.getValue().endPage() > first) {
            return before.getValue();
        }
        Map.Entry<Long, Run> after = runs.ceilingEntry(first);
        return after != null && after.getKey() < end ? after.getValue() : null;
    }

    public void add(long iova, long hostAddress, long pages) {
        runs.put(iova >>> 12, new Run(iova >>> 12, hostAddress >>> 12, pages));
    }

    /** Removes the mapped parts of the range, splitting runs at its edges. */
    public void remove(long iova, long pages) {
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

    public List<Run> runs() {
        return new ArrayList<>(runs.values());
    }

    /** The runs with neighbours joined where both IOVA and host pages continue: the same pages, one way to say it. */
    public List<Run> coalesced() {
        List<Run> joined = new ArrayList<>();
        for (Run r : runs.values()) {
            Run last = joined.isEmpty() ? null : joined.get(joined.size() - 1);
            if (last != null && last.endPage() == r.iovaPage() && last.hostPage() + last.pages() == r.hostPage()) {
                joined.set(joined.size() - 1, new Run(last.iovaPage(), last.hostPage(), last.pages() + r.pages()));
            } else {
                joined.add(r);
            }
        }
        return joined;
    }

    /** Whether both map the same pages to the same host pages. */
    public boolean samePages(GuestMappings other) {
        return coalesced().equals(other.coalesced());
    }

    /** What a unit reads back from its page table. */
    public static GuestMappings of(List<iommu.api.spi.MappedRange> ranges) {
        GuestMappings m = new GuestMappings();
        ranges.forEach(r -> m.add(r.iova(), r.hostAddress(), r.pages()));
        return m;
    }

    public boolean isEmpty() {
        return runs.isEmpty();
    }
}
