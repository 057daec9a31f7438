package iommu.vtd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The unit's IOTLB: translations tagged with (domain id, IOVA page), filled
 * on a translation and dropped only by an invalidation (global, domain,
 * pages) or by eviction of the least recently used entry when full. It is
 * what makes a missing flush visible. Not thread-safe: the unit guards it.
 */
final class Iotlb {

    /** The tag of one cached translation. */
    record Tag(int domainId, long iovaPage) {
    }

    private final int capacity;
    private final LinkedHashMap<Tag, Long> entries;

    Iotlb(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("IOTLB capacity " + capacity + ": expected at least 1");
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Tag, Long> eldest) {
                return size() > Iotlb.this.capacity;
            }
        };
    }

    OptionalLong lookup(int domainId, long iovaPage) {
        Long host = entries.get(new Tag(domainId, iovaPage));
        return host == null ? OptionalLong.empty() : OptionalLong.of(host);
    }

    void fill(int domainId, long iovaPage, long hostPage) {
        entries.put(new Tag(domainId, iovaPage), hostPage);
    }

    void invalidateAll() {
        entries.clear();
    }

    void invalidateDomain(int domainId) {
        entries.keySet().removeIf(t -> t.domainId() == domainId);
    }

    /** Drops the domain's entries for 2^order pages from {@code firstPage}. */
    void invalidatePages(int domainId, long firstPage, int order) {
        long last = firstPage + (1L << order) - 1;
        entries.keySet().removeIf(t -> t.domainId() == domainId && t.iovaPage() >= firstPage && t.iovaPage() <= last);
    }

    int size() {
        return entries.size();
    }
}
