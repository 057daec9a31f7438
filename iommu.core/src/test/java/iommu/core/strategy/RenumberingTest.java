package iommu.core.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.RenumberingProgress;
import iommu.api.spi.Assignment;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.assign.AllocationCounters;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;

class RenumberingTest {

    private final List<String> events = new ArrayList<>();
    private final List<RenumberingProgress> progress = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final RecordingFlush flush = new RecordingFlush(events);
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final TestUnit dmar0 = new TestUnit("dmar0", 16, events).withDevices(0x18, 2);
    private final Renumbering renumbering = new Renumbering(table, flush, topology, attachments,
            new Quarantine(flush, new AllocationCounters(), Fixture.silentLogger()), Recorder.NONE,
            progress::add, Fixture.silentLogger());
    private final PciAddress a = dmar0.deviceList().get(0);
    private final PciAddress b = dmar0.deviceList().get(1);
    private boolean committed;

    RenumberingTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
        attach(a, 1, 1);
        attach(b, 2, 2);
        events.clear();
    }

    private void attach(PciAddress device, int guest, int did) {
        Attachment at = new Attachment(device, GuestId.guest(guest), "dmar0", DomainId.of(did));
        dmar0.setContext(device, at.context());
        table.put(at.guest(), "dmar0", at.domainId());
        attachments.record(at);
    }

    /** An allocator whose renumbering swaps the two guests' ids. */
    private DomainIdAllocator swapping() {
        return new DomainIdAllocator() {
            @Override public Map<Assignment, DomainId> renumbering() {
                return Map.of(new Assignment(GuestId.guest(1), "dmar0", DomainId.of(1)), DomainId.of(2),
                        new Assignment(GuestId.guest(2), "dmar0", DomainId.of(2)), DomainId.of(1));
            }
            @Override public void commitRenumbering() { committed = true; }
            @Override public DomainId allocate(GuestId guest, String unitId) { throw new UnsupportedOperationException(); }
            @Override public void release(GuestId guest, String unitId, DomainId domainId) { }
            @Override public void addUnit(UnitDescriptor unit) { }
            @Override public void removeUnit(String unitId) { }
            @Override public BitSet inUse(String unitId) { return new BitSet(); }
            @Override public int free(String unitId) { return 0; }
        };
    }

    @Test
    void everyMovingEntryIsClearedAndFlushedBeforeAnyNewOneIsWritten() {
        renumbering.apply("test", swapping());
        int lastClear = Math.max(events.indexOf("dmar0 clear " + a), events.indexOf("dmar0 clear " + b));
        int firstSet = events.stream().filter(e -> e.contains(" set ")).mapToInt(events::indexOf).min().orElseThrow();
        assertThat(lastClear).isLessThan(firstSet);
        assertThat(events.subList(lastClear, firstSet)).anyMatch(e -> e.contains("flush"));
        assertThat(dmar0.contexts).containsEntry(a, new DeviceContext(DomainId.of(2), GuestId.guest(1)))
                .containsEntry(b, new DeviceContext(DomainId.of(1), GuestId.guest(2)));
        assertThat(table.guest("dmar0", DomainId.of(1))).contains(GuestId.guest(2));
        assertThat(attachments.get(a).domainId()).isEqualTo(DomainId.of(2));
        assertThat(committed).isTrue();
        assertThat(progress).extracting(RenumberingProgress::written).containsExactly(0, 2);
        assertThat(progress.get(1).done()).isTrue();
    }

    @Test
    void aFailureMidwayRollsBackToTheOldNumbering() {
        flush.failing = true;
        assertThatThrownBy(() -> renumbering.apply("test", swapping())).isInstanceOf(IommuException.class)
                .hasMessageStartingWith("renumbering failed and was rolled back: ");
        assertThat(dmar0.contexts).containsEntry(a, new DeviceContext(DomainId.of(1), GuestId.guest(1)))
                .containsEntry(b, new DeviceContext(DomainId.of(2), GuestId.guest(2)));
        assertThat(table.guest("dmar0", DomainId.of(1))).contains(GuestId.guest(1));
        assertThat(attachments.get(a).domainId()).isEqualTo(DomainId.of(1));
        assertThat(committed).isFalse();
    }
}
