package iommu.flush;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.log.Logger;

import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;

class FlushServiceImplTest {

    static final GuestId GUEST = GuestId.guest(5);
    final FakeUnit dmar0 = new FakeUnit("dmar0", new InvalidationCapabilities(false, true, 18, true));
    final FakeUnit dmar1 = new FakeUnit("dmar1", new InvalidationCapabilities(false, false, 0, false));
    final FakeUnit dmar2 = new FakeUnit("dmar2", new InvalidationCapabilities(false, true, 18, true));
    final Map<String, DomainId> guestDomains = new LinkedHashMap<>();
    FlushServiceImpl flush;

    static Logger silentLogger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> method.getReturnType() == boolean.class ? false : null);
    }

    static FlushConfig config(long timeout) {
        return new FlushConfig() {
            @Override public Class<? extends Annotation> annotationType() { return FlushConfig.class; }
            @Override public long completionTimeoutMillis() { return timeout; }
        };
    }

    @BeforeEach
    void setUp() {
        DomainIdMap map = new DomainIdMap() {
            @Override public Optional<DomainId> domainId(GuestId guest, String unitId) { return Optional.ofNullable(guestDomains.get(unitId)); }
            @Override public Optional<GuestId> guest(String unitId, DomainId domainId) { return Optional.empty(); }
            @Override public Map<String, DomainId> domainsOf(GuestId guest) { return guest.equals(GUEST) ? guestDomains : Map.of(); }
            @Override public Map<DomainId, GuestId> domainsOn(String unitId) { return Map.of(); }
            @Override public Set<GuestId> guests() { return Set.of(GUEST); }
        };
        flush = new FlushServiceImpl(null, map, silentLogger(), config(200));
        flush.bindUnit(dmar0);
        flush.bindUnit(dmar1);
        flush.bindUnit(dmar2);
    }

    @Test
    void aGuestFlushTouchesExactlyTheUnitsWhereItHoldsADomainId() {
        guestDomains.put("dmar0", DomainId.of(3));
        guestDomains.put("dmar1", DomainId.of(7));
        var report = flush.flushGuest(GUEST);
        assertThat(dmar0.received).containsExactly(new Invalidation.Domain(DomainId.of(3)));
        assertThat(dmar1.received).containsExactly(new Invalidation.Domain(DomainId.of(7)));
        assertThat(dmar2.received).isEmpty();
        assertThat(report.invalidations).extracting(i -> i.unit + "/" + i.granularity + "/" + i.did)
                .containsExactly("dmar0/domain/3", "dmar1/domain/7");
    }

    @Test
    void pagesArePageSelectiveWhereSupportedAndDomainSelectiveElsewhere() {
        guestDomains.put("dmar0", DomainId.of(3));
        guestDomains.put("dmar1", DomainId.of(7));
        flush.flushPages(GUEST, 0x200000, 4);
        assertThat(dmar0.received).containsExactly(new Invalidation.Pages(DomainId.of(3), 0x200000, 2));
        assertThat(dmar1.received).containsExactly(new Invalidation.Domain(DomainId.of(7)));
        assertThat(dmar2.received).isEmpty();
    }

    @Test
    void aDeviceContextChangeGoesToItsUnitOnly() {
        PciAddress dev = PciAddress.parse("0000:5e:00.2");
        flush.flushDeviceContext("dmar2", dev, DomainId.of(9), false);
        assertThat(dmar2.received).containsExactly(new Invalidation.Device(dev, DomainId.of(9)),
                new Invalidation.Domain(DomainId.of(9)));
        assertThat(dmar0.received).isEmpty();
        assertThat(dmar1.received).isEmpty();
    }

    @Test
    void theChangesOfOneOperationMakeOneBatchPerUnitWithEachDomainOnce() {
        PciAddress d1 = PciAddress.parse("0000:5e:00.2");
        PciAddress d2 = PciAddress.parse("0000:5e:00.3");
        PciAddress d3 = PciAddress.parse("0000:86:00.0");
        var report = flush.flushContextChanges(java.util.List.of(
                new iommu.api.ContextChange("dmar2", d1, DomainId.of(9), false),
                new iommu.api.ContextChange("dmar2", d2, DomainId.of(9), false),
                new iommu.api.ContextChange("dmar0", d3, DomainId.of(4), false),
                new iommu.api.ContextChange("dmar0", d3, DomainId.of(5), true)));
        assertThat(dmar2.batches).containsExactly(java.util.List.of(new Invalidation.Device(d1, DomainId.of(9)),
                new Invalidation.Domain(DomainId.of(9)), new Invalidation.Device(d2, DomainId.of(9))));
        assertThat(dmar0.batches).containsExactly(java.util.List.of(new Invalidation.Device(d3, DomainId.of(4)),
                new Invalidation.Domain(DomainId.of(4))));
        assertThat(dmar1.batches).isEmpty();
        assertThat(report.invalidations).hasSize(5);
    }

    @Test
    void aLateCompletionTimesOutAndAFailedOneFails() {
        guestDomains.put("dmar0", DomainId.of(3));
        dmar0.completion = new CompletableFuture<>();
        assertThatThrownBy(() -> flush.flushGuest(GUEST)).isInstanceOf(InvalidationException.class)
                .hasMessage("invalidation on unit dmar0 did not complete within 200 ms");
        dmar0.completion = CompletableFuture.failedFuture(new IllegalStateException("invalidation queue error (IQE)"));
        assertThatThrownBy(() -> flush.flushDomain("dmar0", DomainId.of(3))).isInstanceOf(InvalidationException.class)
                .hasMessage("invalidation on unit dmar0 failed: invalidation queue error (IQE)");
    }

    @Test
    void anAbsentUnitIsAClearError() {
        assertThatThrownBy(() -> flush.flushDomain("dmar9", DomainId.of(1)))
                .hasMessageContaining("unit 'dmar9' is not present");
    }
}
