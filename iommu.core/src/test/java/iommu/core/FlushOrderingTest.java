package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import iommu.core.assign.DomainIdTable;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.flush.FlushConfig;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * Issue 4's ordering guarantees with the real flush service over the real
 * VT-d model (queued invalidation): a domain id goes back to the strategy
 * only after its invalidations completed on the unit; an invalidation error
 * fails the operation cleanly and keeps the id out of use until a later
 * flush of it succeeds.
 */
class FlushOrderingTest {

    static final long CAP = 0xd2008c40660462L;           // ND 2, PSI, MAMV 18, CM 0
    static final long CAP_CACHING_MODE = CAP | 0x80;      // the same with CAP.CM set
    static final long ECAP = 0xf050daL;                   // QI set

    final PciAddress a = PciAddress.parse("0000:03:00.0");
    final PciAddress b = PciAddress.parse("0000:03:00.1");
    final PciAddress c = PciAddress.parse("0000:05:00.0");
    final DomainIdTable table = new DomainIdTable();

    static FlushConfig timeout(long millis) {
        return new FlushConfig() {
            @Override public Class<? extends Annotation> annotationType() { return FlushConfig.class; }
            @Override public long completionTimeoutMillis() { return millis; }
        };
    }

    AssignmentManager platform(long flushTimeoutMillis, VtdUnit... units) {
        FlushServiceImpl flush = new FlushServiceImpl(null, table, Fixture.silentLogger(), timeout(flushTimeoutMillis));
        AssignmentManager m = new AssignmentManager(table, flush, Fixture.silentLogger(), Fixture.config("per-unit"));
        for (VtdUnit u : units) {
            flush.bindUnit(u);
            m.bindUnit(u);
        }
        m.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit"));
        m.activate();
        return m;
    }

    static long performed(VtdUnit unit, String key) {
        return unit.invalidationCounts().getOrDefault(key, 0L);
    }

    @Test
    void aDomainIdIsNotReusedBeforeItsInvalidationCompleted() throws Exception {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform(5_000, dmar0);
        m.attach(GuestId.guest(1), List.of(a));

        StandaloneUnit.holdInvalidations(dmar0); // the unit's queue completes late
        CompletableFuture<Void> detach = CompletableFuture.runAsync(() -> m.detach(List.of(a)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (StandaloneUnit.pendingInvalidationBatches(dmar0) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(StandaloneUnit.pendingInvalidationBatches(dmar0)).isPositive();
        Thread.sleep(100);
        assertThat(detach).isNotDone();
        // the id is still the guest's: nothing can hand it out
        assertThat(table.guest("dmar0", DomainId.of(1))).contains(GuestId.guest(1));

        StandaloneUnit.releaseInvalidations(dmar0);
        detach.get(5, TimeUnit.SECONDS);
        assertThat(table.guest("dmar0", DomainId.of(1))).isEmpty();
        // only now does the next guest get id 1
        assertThat(m.attach(GuestId.guest(2), List.of(b)).devices.get(0).did).isEqualTo(1);
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void aCompletionLaterThanTheTimeoutFailsTheDetachAndChangesNothing() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform(200, dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        StandaloneUnit.holdInvalidations(dmar0);
        assertThatThrownBy(() -> m.detach(List.of(a)))
                .hasMessage("detach failed, nothing changed: invalidation on unit dmar0 did not complete within 200 ms");
        StandaloneUnit.releaseInvalidations(dmar0);
        assertThat(m.guest(GuestId.guest(1))).isPresent();
        assertThat(table.guest("dmar0", DomainId.of(1))).contains(GuestId.guest(1));
        m.detach(List.of(a));
        assertThat(table.guest("dmar0", DomainId.of(1))).isEmpty();
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void anInvalidationErrorFailsTheDetachCleanlyAndARetryReleasesTheId() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform(2_000, dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        m.map(GuestId.guest(1), 0x1000, 0x9000, 1);
        assertThat(dmar0.translate(a, 0x1000).hostAddress()).hasValue(0x9000L);

        StandaloneUnit.injectInvalidationErrors(dmar0, 1);
        assertThatThrownBy(() -> m.detach(List.of(a))).hasMessageStartingWith("detach failed, nothing changed:")
                .hasMessageContaining("invalidation on unit dmar0 failed");
        // the device is still the guest's, its DMA still works, the id is not free
        assertThat(dmar0.translate(a, 0x1000).hostAddress()).hasValue(0x9000L);
        assertThat(table.guest("dmar0", DomainId.of(1))).contains(GuestId.guest(1));
        assertThat(m.attach(GuestId.guest(2), List.of(b)).devices.get(0).did).isEqualTo(2);

        m.detach(List.of(a));
        assertThat(dmar0.translate(a, 0x1000).isFault()).isTrue();
        assertThat(m.attach(GuestId.guest(3), List.of(a)).devices.get(0).did).isEqualTo(1);
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void anUnmapWhoseInvalidationFailsSaysThePagesMayStillBeCachedAndKeepsThemUnmapped() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a));
        AssignmentManager m = platform(2_000, dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        m.map(GuestId.guest(1), 0x1000, 0x9000, 1);
        assertThat(dmar0.translate(a, 0x1000).hostAddress()).hasValue(0x9000L); // now in the IOTLB

        StandaloneUnit.injectInvalidationErrors(dmar0, 1);
        assertThatThrownBy(() -> m.unmap(GuestId.guest(1), 0x1000, 1)).isInstanceOf(iommu.api.IommuException.class)
                .hasMessageStartingWith("unmap of 1 pages at IOVA 0x1000 of guest 1: the pages are unmapped, but"
                        + " their invalidation failed, so a unit may still cache them until a flush of the guest"
                        + " succeeds (iommu:flush 1): ")
                .hasMessageContaining("invalidation on unit dmar0 failed");
        // as the message says: still cached, no longer in the tables or the records
        assertThat(dmar0.translate(a, 0x1000).hostAddress()).hasValue(0x9000L);
        // what iommu:flush 1 has the flush service do
        dmar0.invalidate(List.of(new iommu.api.spi.Invalidation.Domain(DomainId.of(1)))).toCompletableFuture().join();
        assertThat(dmar0.translate(a, 0x1000).isFault()).isTrue();
        m.map(GuestId.guest(1), 0x1000, 0xA000, 1); // the range is free again
        assertThat(dmar0.translate(a, 0x1000).hostAddress()).hasValue(0xA000L);
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void aFailedAttachInCachingModeQuarantinesItsIdUntilAFlushSucceeds() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP_CACHING_MODE, ECAP, List.of(a, b));
        AssignmentManager m = platform(2_000, dmar0);
        // caching mode: the attach itself must invalidate; that fails, and so does undoing it
        StandaloneUnit.injectInvalidationErrors(dmar0, 2);
        assertThatThrownBy(() -> m.attach(GuestId.guest(1), List.of(a))).hasMessageContaining("invalidation on unit dmar0 failed");
        assertThat(dmar0.context(a)).isEmpty();
        assertThat(m.guests()).isEmpty();
        // id 1 waited in quarantine; the next operation's retry invalidated it and gave it back
        assertThat(m.attach(GuestId.guest(2), List.of(b)).devices.get(0).did).isEqualTo(1);
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void eachChangeReachesExactlyItsUnitWithTheRightGranularity() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        VtdUnit dmar1 = StandaloneUnit.create("dmar1", CAP, ECAP, List.of(c));
        AssignmentManager m = platform(2_000, dmar0, dmar1);
        Map<String, Long> before0 = Map.copyOf(dmar0.invalidationCounts());
        Map<String, Long> before1 = Map.copyOf(dmar1.invalidationCounts());

        m.attach(GuestId.guest(1), List.of(a));     // not caching mode: no invalidation needed
        assertThat(dmar0.invalidationCounts()).isEqualTo(before0);
        m.map(GuestId.guest(1), 0x10000, 0x40000, 4); // not caching mode: none either
        assertThat(dmar0.invalidationCounts()).isEqualTo(before0);
        m.unmap(GuestId.guest(1), 0x10000, 4);       // PSI: one page-selective invalidation of order 2
        assertThat(performed(dmar0, "pages") - before0.getOrDefault("pages", 0L)).isEqualTo(1);
        m.detach(List.of(a));                        // device-selective context, domain-selective IOTLB
        assertThat(performed(dmar0, "device") - before0.getOrDefault("device", 0L)).isEqualTo(1);
        assertThat(performed(dmar0, "domain") - before0.getOrDefault("domain", 0L)).isEqualTo(1);
        assertThat(performed(dmar0, "global")).isEqualTo(before0.getOrDefault("global", 0L));
        // the other unit was never touched
        assertThat(dmar1.invalidationCounts()).isEqualTo(before1);
    }
}
