package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.DomainIdTable;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * Device-TLBs through the real core, flush service and VT-d model: an ATS
 * device's context entry has TT=1, its DMA fills its device-TLB, and every
 * unmap, detach and renumbering invalidates it after the IOTLB, so no stale
 * translation survives; a device that does not answer fails the operation
 * with one line and releases nothing (DESIGN 7.2: a domain id is not reused
 * before its invalidation completed).
 */
class DeviceTlbTest {

    static final long CAP = FlushOrderingTest.CAP;
    static final long ECAP_DT = FlushOrderingTest.ECAP | 0x4L; // QI, PT and DT

    final PciAddress a = PciAddress.parse("0000:03:00.0");
    final PciAddress b = PciAddress.parse("0000:03:00.1");
    final PciAddress gpu = PciAddress.parse("0000:03:00.2");
    final PciAddress d = PciAddress.parse("0000:05:00.0");
    final DomainIdTable table = new DomainIdTable();
    final GuestId g1 = GuestId.guest(1);
    final GuestId g2 = GuestId.guest(2);

    /** The platform; the flush service reaches each unit through {@code flushView} (the unit itself, or a saboteur). */
    AssignmentManager platform(Map<VtdUnit, IommuUnit> flushView) {
        FlushServiceImpl flush = new FlushServiceImpl(null, table, Fixture.silentLogger(),
                FlushOrderingTest.timeout(2000));
        AssignmentManager m = new AssignmentManager(table, flush, Fixture.silentLogger(),
                Fixture.config("per-unit", "", "linux"));
        flushView.forEach((unit, view) -> {
            flush.bindUnit(view);
            m.bindUnit(unit);
        });
        m.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit", "service.id", 1L));
        m.bindStrategy(new GlobalStrategy(), Map.of("name", "global", "service.id", 2L));
        m.activate();
        return m;
    }

    /** The unit as a flush service would see it, but every device-TLB invalidation dropped: the bug to catch. */
    static IommuUnit droppingDeviceTlbInvalidations(VtdUnit unit) {
        return (IommuUnit) Proxy.newProxyInstance(IommuUnit.class.getClassLoader(), new Class<?>[] {IommuUnit.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "equals" -> {
                            return proxy == args[0]; // the flush service keys its batches by unit
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(proxy);
                        }
                        default -> {
                        }
                    }
                    if (method.getName().equals("invalidate")) {
                        @SuppressWarnings("unchecked")
                        List<Invalidation> batch = (List<Invalidation>) args[0];
                        args = new Object[] {batch.stream().filter(i -> !(i instanceof Invalidation.DeviceTlb))
                                .toList()};
                    }
                    try {
                        return method.invoke(unit, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void attachMapTranslateUnmapFaultsBecauseTheDeviceTlbWasInvalidatedAfterTheIotlb() {
        VtdUnit dmar0 = StandaloneUnit.createWithAts("dmar0", CAP, ECAP_DT, List.of(a, b, gpu), Set.of(a, b));
        AssignmentManager m = platform(Map.of(dmar0, dmar0));
        // host-owned: pass-through (TT=2), ATS left disabled, the identity address
        assertThat(dmar0.describeContext(a)).containsEntry("TT", 2).containsEntry("ATS", "disabled");
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).hasValue(0x10000L);
        assertThat(StandaloneUnit.deviceTlbEntries(dmar0, a)).isZero();
        assertThat(m.devices()).filteredOn(x -> x.ats).extracting(x -> x.bdf).containsExactly(a.toString(),
                b.toString());

        m.attach(g1, List.of(a, gpu));
        assertThat(dmar0.describeContext(a)).containsEntry("TT", 1).containsEntry("ATS", "enabled");
        assertThat(dmar0.describeContext(gpu)).containsEntry("TT", 0);
        m.map(g1, 0x10000, 0x4000000, 4);
        assertThat(dmar0.translate(a, 0x11000).hostAddress()).hasValue(0x4001000L);
        assertThat(StandaloneUnit.deviceTlbEntries(dmar0, a)).as("the device-TLB filled").isEqualTo(1);
        long before = dmar0.invalidationCounts().get("device-tlb");
        m.unmap(g1, 0x10000, 4);
        assertThat(dmar0.translate(a, 0x11000).faultReason()).isEqualTo(0x6);
        assertThat(dmar0.invalidationCounts().get("device-tlb")).isEqualTo(before + 1);
        assertThat(dmar0.invalidationCounts().get("performed.device-tlb")).isPositive();
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void sabotageWithoutTheDeviceTlbInvalidationAnUnmappedPageStaysReachable() {
        VtdUnit dmar0 = StandaloneUnit.createWithAts("dmar0", CAP, ECAP_DT, List.of(a, b), Set.of(a, b));
        AssignmentManager m = platform(Map.of(dmar0, droppingDeviceTlbInvalidations(dmar0)));
        m.attach(g1, List.of(a));
        m.map(g1, 0x10000, 0x4000000, 1);
        dmar0.translate(a, 0x10000);
        m.unmap(g1, 0x10000, 1);
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).as("the stale device-TLB entry").hasValue(0x4000000L);
    }

    @Test
    void sabotageWithoutItOnDetachTheDevicesNextGuestReachesThePreviousGuestsPage() {
        for (boolean sabotage : new boolean[] {false, true}) {
            VtdUnit dmar0 = StandaloneUnit.createWithAts("dmar0", CAP, ECAP_DT, List.of(a, b), Set.of(a, b));
            AssignmentManager m = platform(Map.of(dmar0, sabotage ? droppingDeviceTlbInvalidations(dmar0) : dmar0));
            m.attach(g1, List.of(a));
            m.map(g1, 0x10000, 0x4000000, 1);
            dmar0.translate(a, 0x10000);
            m.detach(List.of(a));
            assertThat(dmar0.translate(a, 0x10000).hostAddress()).as("with the host: pass-through, ATS off")
                    .hasValue(0x10000L);
            m.attach(g2, List.of(a));
            if (sabotage) {
                assertThat(dmar0.translate(a, 0x10000).hostAddress()).as("guest 2 reaches guest 1's page")
                        .hasValue(0x4000000L);
            } else {
                assertThat(dmar0.translate(a, 0x10000).faultReason()).isEqualTo(0x6);
            }
        }
    }

    @Test
    void aRenumberingInvalidatesTheDeviceTlbsOfTheEntriesItMoves() {
        VtdUnit dmar0 = StandaloneUnit.createWithAts("dmar0", CAP, ECAP_DT, List.of(a, b), Set.of(a, b));
        VtdUnit dmar1 = StandaloneUnit.createKept("dmar1", 0xfed9_1000L, CAP, ECAP_DT, List.of(d), List.of(), Set.of(d),
                java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "devtlb-" + System.nanoTime()));
        AssignmentManager m = platform(Map.of(dmar0, dmar0, dmar1, dmar1));
        m.attach(g1, List.of(a)); // dmar0 DID 2
        m.attach(g2, List.of(b, d)); // dmar0 DID 3, dmar1 DID 2: under global guest 2 needs one id on both
        m.map(g2, 0x10000, 0x5000000, 1);
        dmar0.translate(b, 0x10000);
        dmar1.translate(d, 0x10000);
        long before = dmar0.invalidationCounts().get("device-tlb") + dmar1.invalidationCounts().get("device-tlb");
        m.modified(Fixture.config("global", "", "linux"));
        assertThat(m.strategyProblem()).isEmpty();
        assertThat(dmar0.invalidationCounts().get("device-tlb") + dmar1.invalidationCounts().get("device-tlb"))
                .as("device-TLB invalidations of the renumbered entries").isGreaterThan(before);
        assertThat(StandaloneUnit.deviceTlbEntries(dmar0, b) + StandaloneUnit.deviceTlbEntries(dmar1, d))
                .as("the renumbered device's cache was dropped").isLessThan(2);
        assertThat(dmar0.translate(b, 0x10000).hostAddress()).hasValue(0x5000000L);
        assertThat(dmar1.translate(d, 0x10000).hostAddress()).hasValue(0x5000000L);
        assertThat(m.audit()).isEmpty();
        StandaloneUnit.close(dmar1);
    }

    @Test
    void aDeviceThatDoesNotAnswerFailsUnmapAndDetachAndNoDomainIdGoesBack() {
        VtdUnit dmar0 = StandaloneUnit.createWithAts("dmar0", CAP, ECAP_DT, List.of(a, b), Set.of(a, b));
        AssignmentManager m = platform(Map.of(dmar0, dmar0));
        m.attach(g1, List.of(a));
        m.map(g1, 0x10000, 0x4000000, 1);
        m.map(g1, 0x20000, 0x4001000, 1);
        dmar0.translate(a, 0x10000);
        StandaloneUnit.deviceAnswers(dmar0, a, false);
        assertThatThrownBy(() -> m.unmap(g1, 0x10000, 1)).isInstanceOf(IommuException.class)
                .hasMessageContaining("unmap of 1 pages at IOVA 0x10000 of guest 1: the pages are unmapped, but their"
                        + " invalidation failed")
                .hasMessageContaining("the device-TLB invalidation of 03:00.0 did not complete: the device did not"
                        + " answer within the time-out (FSTS.ITE, IQERCD.ITESID 0x0300)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        var did = table.domainId(g1, "dmar0");
        assertThatThrownBy(() -> m.detach(List.of(a))).isInstanceOf(IommuException.class)
                .hasMessageStartingWith("detach failed, nothing changed: ")
                .hasMessageContaining("did not answer");
        assertThat(m.devices()).filteredOn(x -> x.bdf.equals(a.toString())).singleElement()
                .satisfies(x -> assertThat(x.guest).isEqualTo(1));
        assertThat(table.domainId(g1, "dmar0")).as("no domain id released").isEqualTo(did);
        assertThat(dmar0.translate(a, 0x20000).hostAddress()).as("still guest 1's").hasValue(0x4001000L);

        StandaloneUnit.deviceAnswers(dmar0, a, true);
        m.detach(List.of(a));
        assertThat(table.domainsOn("dmar0")).as("released once its invalidation completed").isEmpty();
        assertThat(m.audit()).isEmpty();
    }
}
