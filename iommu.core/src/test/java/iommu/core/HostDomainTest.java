package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.FlushReportDTO;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Translation;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.HostDomain;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * The host domain over the real VT-d model: host-owned devices are in it
 * (pass-through, TT=2, with ECAP.PT; an identity table without: Linux
 * {@code si_domain}), its DID is kept back from guests, and attach and detach
 * move a device between it and the guest in place, invalidating the id the
 * entry held before (Linux {@code device_block_translation} flushes the old
 * domain; Xen's direct re-assignment, XSA-400).
 */
class HostDomainTest {

    static final long CAP = FlushOrderingTest.CAP;
    static final long ECAP = FlushOrderingTest.ECAP;           // PT set
    static final long ECAP_NO_PT = ECAP & ~0x40L;

    final PciAddress a = PciAddress.parse("0000:03:00.0");
    final PciAddress b = PciAddress.parse("0000:03:00.1");
    final DomainIdTable table = new DomainIdTable();
    FlushService flush;

    AssignmentManager platform(String hostDomain, FlushService flushService, VtdUnit... units) {
        FlushServiceImpl real = new FlushServiceImpl(null, table, Fixture.silentLogger(), FlushOrderingTest.timeout(2000));
        flush = flushService == null ? real : flushService;
        AssignmentManager m = new AssignmentManager(table, flush, Fixture.silentLogger(),
                Fixture.config("per-unit", "", hostDomain));
        for (VtdUnit u : units) {
            real.bindUnit(u);
            m.bindUnit(u);
        }
        m.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit", "service.id", 1L));
        m.bindStrategy(new GlobalStrategy(), Map.of("name", "global", "service.id", 2L));
        m.activate();
        return m;
    }

    @Test
    void aHostOwnedDeviceIsInPassThroughAndAttachAndDetachMoveItInPlace() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("linux", null, dmar0);
        assertThat(dmar0.context(a)).contains(DeviceContext.host(DomainId.of(1)));
        assertThat(dmar0.describeContext(a)).containsEntry("TT", 2).containsEntry("DID", 1);
        assertThat(dmar0.translate(a, 0x12345000L).hostAddress()).hasValue(0x12345000L);
        assertThat(m.units().get(0).reserved).containsExactly(0, 1);
        assertThat(m.units().get(0).hostDomainId).isEqualTo(1);

        assertThat(m.attach(GuestId.guest(1), List.of(a)).devices.get(0).did).as("DID 1 is the host's").isEqualTo(2);
        m.map(GuestId.guest(1), 0x10000, 0x4000000, 1);
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).hasValue(0x4000000L);
        assertThat(dmar0.translate(a, 0x20000).isFault()).as("the guest maps nothing there").isTrue();
        assertThat(m.audit()).isEmpty();

        m.detach(List.of(a));
        assertThat(dmar0.context(a)).contains(DeviceContext.host(DomainId.of(1)));
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).as("back with the host: identity").hasValue(0x10000L);
        assertThat(table.domainsOn("dmar0")).as("the guest's id went back after its flush").isEmpty();
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void withoutPassThroughTheHostDomainIsAnIdentityTableSiDomain() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP_NO_PT, List.of(a, b));
        AssignmentManager m = platform("linux", null, dmar0);
        assertThat(dmar0.describeContext(a)).containsEntry("TT", 0).containsEntry("DID", 1);
        assertThat(dmar0.translate(a, 0x7654_3000L).hostAddress()).hasValue(0x7654_3000L);
        assertThat(dmar0.translate(a, 0x1_0000_0000L).isFault()).as("beyond the 4 GiB the model takes as memory")
                .isTrue();
        m.attach(GuestId.guest(1), List.of(a));
        assertThat(dmar0.translate(a, 0x7654_3000L).isFault()).isTrue();
        m.detach(List.of(a));
        assertThat(dmar0.translate(a, 0x7654_3000L).hostAddress()).hasValue(0x7654_3000L);
        assertThat(m.audit()).isEmpty();
    }

    /** A flush service that loses the invalidation of the host domain's id, as a buggy attach would. */
    static FlushService droppingHostInvalidations(FlushService real) {
        return (FlushService) java.lang.reflect.Proxy.newProxyInstance(FlushService.class.getClassLoader(),
                new Class<?>[] {FlushService.class}, (proxy, method, args) -> {
                    if (method.getName().equals("flushDeviceContext") && args[2].equals(DomainId.of(1))) {
                        return new FlushReportDTO();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void sabotageAnAttachThatSkipsTheHostIdsInvalidationLeavesTheDeviceInPassThrough() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        FlushServiceImpl real = new FlushServiceImpl(null, table, Fixture.silentLogger(), FlushOrderingTest.timeout(2000));
        real.bindUnit(dmar0);
        AssignmentManager m = platform("linux", droppingHostInvalidations(real), dmar0);
        dmar0.translate(a, 0x10000); // the unit caches the host's entry for the device
        m.attach(GuestId.guest(1), List.of(a));
        m.map(GuestId.guest(1), 0x10000, 0x4000000, 1);
        Translation stale = dmar0.translate(a, 0x10000);
        // the guest's device still DMAs untranslated into host memory: the bug the invalidation guards against
        assertThat(stale.hostAddress()).hasValue(0x10000L);
    }

    @Test
    void theHostIdCountsAgainstCapacityUnderGlobalAsOnLinux() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager linux = platform("linux", null, dmar0);
        assertThat(linux.units().get(0).reserved).containsExactly(0, 1);
        VtdUnit other = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager seed = platform("none", null, other);
        assertThat(seed.units().get(0).reserved).containsExactly(0);
        assertThat(seed.units().get(0).hostDomainId).isNull();
        assertThat(other.context(a)).as("the seed's accounting: no entry").isEmpty();
        assertThat(other.translate(a, 0x10000).faultReason()).isEqualTo(1);
    }

    @Test
    void allocatedTakesTheLowestIdNoGuestHoldsAsXensDom0AndASwitchRewritesTheEntries() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("none", null, dmar0);
        m.attach(GuestId.guest(7), List.of(b)); // DID 1, as the seed hands it out
        m.modified(Fixture.config("per-unit", "", "allocated"));
        assertThat(m.units().get(0).hostDomainId).as("1 is guest 7's").isEqualTo(2);
        assertThat(dmar0.context(a)).contains(DeviceContext.host(DomainId.of(2)));
        assertThat(dmar0.context(b)).contains(new DeviceContext(DomainId.of(1), GuestId.guest(7)));
        assertThat(m.audit()).isEmpty();
        m.modified(Fixture.config("per-unit", "", "none"));
        assertThat(dmar0.context(a)).isEmpty();
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void verifyReportsAHostOwnedDeviceLeftWithoutItsEntry() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("linux", null, dmar0);
        dmar0.clearContext(a);
        assertThat(m.audit()).containsExactly("unit dmar0: host-owned " + a + " has no context entry; expected the"
                + " host domain's (domain id 1)");
    }

    @Test
    void anUnknownModeIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> HostDomain.Mode.parse("dom0")).isInstanceOf(IommuException.class)
                .hasMessage("host domain 'dom0' unknown: expected linux, allocated or none");
    }

    @Test
    void keptTablesWhoseGuestHoldsDidOneGiveTheHostTheNextFreeIdAndLoseNothing(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) {
        VtdUnit first = StandaloneUnit.createKept("dmar0", CAP, ECAP, List.of(a, b), dir);
        AssignmentManager seed = platform("none", null, first);
        seed.attach(GuestId.guest(1), List.of(a)); // DID 1: no host domain then
        StandaloneUnit.close(first);
        VtdUnit kept = StandaloneUnit.createKept("dmar0", CAP, ECAP, List.of(a, b), dir);
        AssignmentManager m = platform("linux", null, kept);
        assertThat(kept.context(a)).contains(new DeviceContext(DomainId.of(1), GuestId.guest(1)));
        assertThat(m.units().get(0).hostDomainId).as("1 is guest 1's in the kept tables").isEqualTo(2);
        assertThat(kept.context(b)).contains(DeviceContext.host(DomainId.of(2)));
        assertThat(m.audit()).isEmpty();
    }
}
