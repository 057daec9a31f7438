package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;

/** A batch larger than the invalidation queue goes as several submissions and completes as one. */
class LargeBatchTest {

    @Test
    void aBatchOfMoreDescriptorsThanTheQueueHoldsCompletes() throws Exception {
        List<PciAddress> devices = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            devices.add(PciAddress.ofRoutingId(0, 0x1800 + i));
        }
        VtdUnit unit = StandaloneUnit.create("dmar0", 0xd2008c40660462L, 0xf050daL, devices);
        long waitsBefore = unit.invalidationCounts().getOrDefault("performed.wait", 0L);
        List<Invalidation> batch = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            batch.add(new Invalidation.Device(devices.get(i), DomainId.of(1 + i % 200)));
        }
        unit.invalidate(batch).toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        // many times the queue's size: a renumbering of hundreds of devices on one unit
        List<Invalidation> huge = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 300; i++) {
                huge.add(new Invalidation.Device(devices.get(i), DomainId.of(1 + i % 200)));
                huge.add(new Invalidation.Domain(DomainId.of(1 + (i + round) % 200)));
            }
        }
        unit.invalidate(huge).toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(unit.invalidationCounts().get("device")).isGreaterThanOrEqualTo(300L);
        assertThat(unit.invalidationCounts().getOrDefault("performed.wait", 0L) - waitsBefore).isGreaterThan(1);
        assertThat(unit.pendingInvalidationBatches()).isZero();
    }
}
