package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.core.assign.AllocationCounters.Counter;

class AllocationCountersTest {

    @Test
    void everyUnitGetsEveryCounterInTheApiOrder() {
        AllocationCounters c = new AllocationCounters();
        c.count("dmar0", Counter.ALLOCATIONS);
        c.count("dmar0", Counter.ALLOCATIONS);
        c.count("dmar0", Counter.FAILURES);
        Map<String, Map<String, Long>> snapshot = c.snapshot(List.of("dmar1", "dmar0"));
        assertThat(snapshot.keySet()).containsExactly("dmar0", "dmar1");
        assertThat(snapshot.get("dmar0")).containsExactly(Map.entry("allocations", 2L), Map.entry("releases", 0L),
                Map.entry("failures", 1L), Map.entry("quarantined", 0L));
        assertThat(snapshot.get("dmar1").values()).containsOnly(0L);
    }
}
