package iommu.vtd;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The unit's IOTLB: translations tagged with (domain id, IOVA page), filled
 * on a translation and dropped only by an invalidation (global, domain, pages
 * with an address mask) or by eviction of the least recently used entry when
 * full. It is what makes a missing flush visible. With caching mode it also
 * keeps not-present results. Not thread-safe: the unit guards it.
 */
final class Iotlb {

    /** The tag of one cached translation. */
    record Tag(int domainId, long iovaPage) {
    }

    /**
     * What is cached: the host page and the access rights the walk found;
     * neither right means a cached not-present result (caching mode only).
     */
    record Entry(long hostPage, boolean read, boolean write) {
        static final Entry NOT_PRESENT = new Entry(0, false, false);

        boolean present() {
            return read || write;
        }
    }

    private final int capacity;
    private final LinkedHashMap<Tag, Entry> entries;

    Iotlb(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("IOTLB capacity " + capacity + ": expected at least 1");
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Tag, Entry> eldest) {
                return size() > Iotlb.this.capacity;
            }
        };
    }

    /** The cached entry, or null. */
    Entry lookup(int domainId, long iovaPage) {
        return entries.get(new Tag(domainId, iovaPage));
    }

    void fill(int domainId, long iovaPage, Entry entry) {
        entries.put(new Tag(domainId, iovaPage), entry);
    }

    void invalidateAll() {
        entries.clear();
    }

    void invalidateDomain(int domainId) {
        entries.keySet().removeIf(t -> t.domainId() == domainId);
    }

    /** Drops the domain's entries in the naturally aligned block of 2^order pages holding {@code page}. */
    void invalidatePages(int domainId, long page, int order) {
        long first = page >>> order << order;
        long last = first + (1L << order) - 1;
        entries.keySet().removeIf(t -> t.domainId() == domainId && t.iovaPage() >= first && t.iovaPage() <= last);
    }

    int size() {
        return entries.size();
    }
}
