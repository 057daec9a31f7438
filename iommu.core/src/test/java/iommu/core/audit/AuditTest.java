package iommu.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.assign.AllocationCounters;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.GuestPages;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Topology;

/** The audit is a pure function: each sabotage below shows the line it is there to catch. */
class AuditTest {

    private final List<String> events = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final Quarantine quarantine = new Quarantine(new RecordingFlush(events), new AllocationCounters(),
            Fixture.silentLogger());
    private final TestUnit dmar0 = new TestUnit("dmar0", 16, events).withDevices(0x18, 4);
    private final PciAddress a = dmar0.deviceList().get(0);
    private final PciAddress b = dmar0.deviceList().get(1);
    private DomainIdAllocator allocator;

    AuditTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
        Attachment at = new Attachment(a, GuestId.guest(1), "dmar0", DomainId.of(1));
        dmar0.setContext(a, at.context());
        table.put(at.guest(), "dmar0", at.domainId());
        attachments.record(at);
        allocator = new PerUnitStrategy().open(topology.descriptors(),
                List.of(new Assignment(at.guest(), "dmar0", at.domainId())));
    }

    private List<String> audit() {
        return Audit.of(topology, attachments, table, new GuestPages(), quarantine, new iommu.core.assign.HostDomain(iommu.core.assign.HostDomain.Mode.NONE),
                new iommu.core.assign.DeviceQuarantine(iommu.core.assign.DeviceQuarantine.Mode.NONE), new Audit.Strategy("per-unit", allocator, null));
    }

    @Test
    void agreementGivesNoLine() {
        assertThat(audit()).isEmpty();
    }

    @Test
    void aContextEntryTheUnitLostIsNamed() {
        dmar0.clearContext(a);
        assertThat(audit()).containsExactly("device " + a + " of guest 1 on unit dmar0: the unit's context entry is"
                + " not present; expected domain id 1");
    }

    @Test
    void anEntryNoAssignmentRecordsIsNamed() {
        dmar0.setContext(b, new iommu.api.spi.DeviceContext(DomainId.of(9), GuestId.guest(2)));
        assertThat(audit()).containsExactly("unit dmar0 has a present context entry for " + b
                + " (domain id 9) that no assignment records");
    }

    @Test
    void aBitmapThatDisagreesWithTheMapIsNamed() {
        allocator.allocate(GuestId.guest(5), "dmar0"); // marked, held by nobody in the map
        assertThat(audit()).containsExactly("unit dmar0: strategy per-unit marks ids {2} in use that the map does not"
                + " hold, and not ids {} that it does");
    }

    @Test
    void theStrategysOwnRulesAreReportedAsItStatesThem() {
        DomainIdAllocator strict = new PerUnitStrategy().open(topology.descriptors(),
                List.of(new Assignment(GuestId.guest(1), "dmar0", DomainId.of(1))));
        allocator = new DomainIdAllocatorWrapper(strict) {
            @Override
            public List<String> check(Collection<Assignment> assignments) {
                return assignments.stream().map(x -> "guest " + x.guest() + " breaks rule r on " + x.unitId()).toList();
            }
        };
        assertThat(audit()).containsExactly("guest 1 breaks rule r on dmar0");
    }

    @Test
    void noStrategyBoundIsALine() {
        assertThat(Audit.of(topology, attachments, table, new GuestPages(), quarantine, new iommu.core.assign.HostDomain(iommu.core.assign.HostDomain.Mode.NONE),
                new iommu.core.assign.DeviceQuarantine(iommu.core.assign.DeviceQuarantine.Mode.NONE), new Audit.Strategy(null, null,
                "strategy 'x' is not available"))).containsExactly("no allocation strategy bound: strategy 'x' is not"
                        + " available");
    }

    /** Delegates everything; a test overrides what it sabotages. */
    private static class DomainIdAllocatorWrapper implements DomainIdAllocator {
        private final DomainIdAllocator d;

        DomainIdAllocatorWrapper(DomainIdAllocator d) {
            this.d = d;
        }

        @Override public java.util.Map<Assignment, DomainId> renumbering() { return d.renumbering(); }
        @Override public void commitRenumbering() { d.commitRenumbering(); }
        @Override public DomainId allocate(GuestId guest, String unitId) { return d.allocate(guest, unitId); }
        @Override public void release(GuestId guest, String unitId, DomainId did) { d.release(guest, unitId, did); }
        @Override public void addUnit(UnitDescriptor unit) { d.addUnit(unit); }
        @Override public void removeUnit(String unitId) { d.removeUnit(unitId); }
        @Override public java.util.BitSet inUse(String unitId) { return d.inUse(unitId); }
        @Override public int free(String unitId) { return d.free(unitId); }
    }
}
