package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.DomainIdTable;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * Quarantine on detach, as Xen's {@code iommu=quarantine} has it: a device a
 * guest had is reassigned to a domain that translates nothing (dom_io), not
 * to the host, until the toolstack gives it back ({@code xl
 * pci-assignable-remove}); it may be given to a guest again from there.
 */
class DeviceQuarantineTest {

    static final long CAP = FlushOrderingTest.CAP;
    static final long ECAP = FlushOrderingTest.ECAP;

    final PciAddress a = PciAddress.parse("0000:03:00.0");
    final PciAddress b = PciAddress.parse("0000:03:00.1");

    AssignmentManager platform(String stateDirectory, VtdUnit unit) {
        DomainIdTable table = new DomainIdTable();
        FlushServiceImpl flush = new FlushServiceImpl(null, table, Fixture.silentLogger(), FlushOrderingTest.timeout(2000));
        AssignmentManager m = new AssignmentManager(table, flush, Fixture.silentLogger(),
                Fixture.config("per-unit", stateDirectory, "linux", "basic"));
        flush.bindUnit(unit);
        m.bindUnit(unit);
        m.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit", "service.id", 1L));
        m.activate();
        return m;
    }

    @Test
    void aDetachedDeviceFaultsUntilReleasedAndMayGoToAGuestFromThere() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("", dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        m.map(GuestId.guest(1), 0x10000, 0x4000000, 1);
        m.detach(List.of(a));
        assertThat(dmar0.context(a)).as("neither the guest's nor the host's").isEmpty();
        assertThat(dmar0.translate(a, 0x10000).faultReason()).isEqualTo(2);
        assertThat(m.devices()).filteredOn(d -> d.bdf.equals(a.toString())).singleElement()
                .satisfies(d -> assertThat(d.quarantined).isTrue());
        assertThat(m.audit()).isEmpty();

        m.attach(GuestId.guest(2), List.of(a)); // from quarantine to a guest
        assertThat(dmar0.context(a)).contains(new DeviceContext(DomainId.of(2), GuestId.guest(2)));
        m.detach(List.of(a));
        m.release(List.of(a));
        assertThat(dmar0.context(a)).contains(DeviceContext.host(DomainId.of(1)));
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).hasValue(0x10000L);
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void releaseRefusesWhatIsNotQuarantinedAndChangesNothing() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("", dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        m.detach(List.of(a));
        assertThatThrownBy(() -> m.release(List.of(a, b))).isInstanceOf(IommuException.class)
                .hasMessage("device " + b + " is not quarantined: it is the host's already");
        assertThat(dmar0.context(a)).isEmpty();
        m.attach(GuestId.guest(3), List.of(b));
        assertThatThrownBy(() -> m.release(List.of(b)))
                .hasMessage("device " + b + " is attached to guest 3, not quarantined: detach it");
        assertThat(m.audit()).isEmpty();
    }

    @Test
    void sabotageAQuarantinedDeviceThatGoesBackToTheHostDomainReachesHostMemoryAndVerifySaysSo() {
        VtdUnit dmar0 = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform("", dmar0);
        m.attach(GuestId.guest(1), List.of(a));
        m.detach(List.of(a));
        dmar0.setContext(a, DeviceContext.host(DomainId.of(1))); // what a detach ignoring the mode would write
        assertThat(dmar0.translate(a, 0x10000).hostAddress()).as("the untrusted device reaches host memory")
                .hasValue(0x10000L);
        assertThat(m.audit()).containsExactly("unit dmar0: quarantined " + a + " has the entry of the host with domain"
                + " id 1; expected none (its DMA faults until it is released)");
    }

    @Test
    void theJournalKeepsTheQuarantineAcrossARestart(@TempDir Path state) {
        VtdUnit first = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b));
        AssignmentManager m = platform(state.toString(), first);
        m.attach(GuestId.guest(1), List.of(a));
        m.detach(List.of(a));
        m.deactivate();
        VtdUnit again = StandaloneUnit.create("dmar0", CAP, ECAP, List.of(a, b)); // tables not kept
        AssignmentManager restarted = platform(state.toString(), again);
        assertThat(again.context(a)).as("still in quarantine").isEmpty();
        assertThat(again.context(b)).contains(DeviceContext.host(DomainId.of(1)));
        assertThat(restarted.audit()).isEmpty();
        restarted.release(List.of(a));
        assertThat(again.context(a)).contains(DeviceContext.host(DomainId.of(1)));
    }

    @Test
    void anUnknownModeIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> DeviceQuarantine.Mode.parse("scratch")).isInstanceOf(IommuException.class)
                .hasMessage("quarantine 'scratch' unknown: expected none or basic");
    }
}
