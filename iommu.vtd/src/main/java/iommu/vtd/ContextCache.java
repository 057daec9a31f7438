package iommu.vtd;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The unit's context cache: context entries fetched by translations, keyed
 * by source id (bus, device, function), bounded, the least recently used
 * evicted first. With caching mode (CAP.CM=1) it also keeps not-present
 * entries, tagged with domain id 0, so that a device whose entry went from
 * not-present to present without a flush keeps faulting. Dropped only by
 * invalidation (global, domain-selective, device-selective with a function
 * mask) or eviction. Not thread-safe: the unit guards it.
 */
final class ContextCache {

    private final int capacity;
    private final LinkedHashMap<Integer, ContextEntry> entries;

    ContextCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("context-cache capacity " + capacity + ": expected at least 1");
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, ContextEntry> eldest) {
                return size() > ContextCache.this.capacity;
            }
        };
    }

    /** The cached entry of the source id, or null. */
    ContextEntry lookup(int sourceId) {
        return entries.get(sourceId);
    }

    void fill(int sourceId, ContextEntry entry) {
        entries.put(sourceId, entry);
    }

    void invalidateAll() {
        entries.clear();
    }

    void invalidateDomain(int domainId) {
        entries.values().removeIf(e -> e.domainId() == domainId);
    }

    /**
     * Drops the entries of the source id, the function bits the mask names
     * ignored (FM 1: bit 2; 2: bits 2:1; 3: bits 2:0), that are tagged with
     * the domain id.
     */
    void invalidateDevice(int sourceId, int functionMask, int domainId) {
        int ignored = switch (functionMask & 3) {
            case 0 -> 0;
            case 1 -> 0b100;
            case 2 -> 0b110;
            default -> 0b111;
        };
        entries.entrySet().removeIf(e -> (e.getKey() & ~ignored) == (sourceId & ~ignored)
                && e.getValue().domainId() == domainId);
    }

    int size() {
        return entries.size();
    }
}
