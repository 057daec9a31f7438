package iommu.vtd;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One device's own address translation cache (ATC, its device-TLB; PCIe
 * ATS): the translations its translation requests were given, keyed by the
 * untranslated page, bounded, the least recently used evicted first. It is
 * not tagged with domain ids (the device knows none): it holds whatever the
 * context entry its requests went through translated, until a device-TLB
 * invalidation request drops it. That is what makes a missing device-TLB
 * flush visible. Not thread-safe: the unit guards it.
 */
final class DeviceTlb {

    private final int capacity;
    private final LinkedHashMap<Long, Iotlb.Entry> entries;

    DeviceTlb(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("device-TLB capacity " + capacity + ": expected at least 1");
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Iotlb.Entry> eldest) {
                return size() > DeviceTlb.this.capacity;
            }
        };
    }

    /** The cached translation of the untranslated page, or null. */
    Iotlb.Entry lookup(long page) {
        return entries.get(page);
    }

    void fill(long page, Iotlb.Entry entry) {
        entries.put(page, entry);
    }

    /** Drops the naturally aligned block of 2^order pages holding {@code page}; order 52 or more: everything. */
    void invalidate(long page, int order) {
        if (order >= iommu.api.spi.Invalidation.DeviceTlb.ALL) {
            entries.clear();
            return;
        }
        long first = page >>> order << order;
        long last = first + (1L << order) - 1;
        entries.keySet().removeIf(p -> p >= first && p <= last);
    }

    int size() {
        return entries.size();
    }
}
