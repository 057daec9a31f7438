package iommu.core.assign;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the allocator did on each unit since the component started, for
 * {@link iommu.api.DeviceAssignment#allocationCounts()}. Not thread-safe;
 * called under the component's lock.
 */
public final class AllocationCounters {

    /** The counters, in the order the API lists them; their names are the API's. */
    public enum Counter {
        ALLOCATIONS("allocations"), RELEASES("releases"), FAILURES("failures"), QUARANTINED("quarantined");

        private final String key;

        Counter(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    private final Map<String, long[]> byUnit = new HashMap<>();

    public void count(String unitId, Counter counter) {
        byUnit.computeIfAbsent(unitId, u -> new long[Counter.values().length])[counter.ordinal()]++;
    }

    public long get(String unitId, Counter counter) {
        long[] c = byUnit.get(unitId);
        return c == null ? 0 : c[counter.ordinal()];
    }

    /** unit id, then counter name, then count, for the units given (each counter present, zero or not). */
    public Map<String, Map<String, Long>> snapshot(Collection<String> unitIds) {
        Map<String, Map<String, Long>> all = new TreeMap<>();
        for (String unitId : unitIds) {
            Map<String, Long> c = new LinkedHashMap<>();
            for (Counter counter : Counter.values()) {
                c.put(counter.key(), get(unitId, counter));
            }
            all.put(unitId, c);
        }
        return all;
    }
}
