package iommu.core.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestPages;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;

class UnitAdoptionTest {

    private final List<String> events = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final TestUnit dmar0 = new TestUnit("dmar0", 16, events).withDevices(0x18, 4);
    private final UnitAdoption adoption = new UnitAdoption(table, new RecordingFlush(events), topology, attachments,
            new GuestPages(), Recorder.NONE, Fixture.silentLogger());
    private final PciAddress a = dmar0.deviceList().get(0);
    private final PciAddress b = dmar0.deviceList().get(1);
    private final PciAddress c = dmar0.deviceList().get(2);

    UnitAdoptionTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
    }

    @Test
    void presentEntriesNobodyRecordedAreAdoptedAndConflictingOnesCleared() {
        dmar0.setContext(a, new DeviceContext(DomainId.of(2), GuestId.guest(1)));
        dmar0.setContext(b, new DeviceContext(DomainId.of(2), GuestId.guest(7))); // id 2 is guest 1's
        UnitAdoption.Result r = adoption.adopt(dmar0);
        assertThat(r.adoptedAny()).isTrue();
        assertThat(attachments.get(a)).isEqualTo(new Attachment(a, GuestId.guest(1), "dmar0", DomainId.of(2)));
        assertThat(dmar0.contexts).doesNotContainKey(b);
        assertThat(r.problems()).containsExactly("unit dmar0: the context entry of " + b + " (guest 7, domain id 2)"
                + " conflicts with the map (domain id 2 is guest 1's): cleared, the device is back with the host");
    }

    @Test
    void aUnitThatCameBackEmptyGetsItsRecordsWrittenAgain() {
        attachments.record(new Attachment(c, GuestId.guest(4), "dmar0", DomainId.of(3)));
        UnitAdoption.Result r = adoption.adopt(dmar0);
        assertThat(r.adoptedAny()).isFalse();
        assertThat(r.problems()).as("tables that were not kept owe nothing").isEmpty();
        assertThat(dmar0.contexts).containsEntry(c, new DeviceContext(DomainId.of(3), GuestId.guest(4)));
    }
}
