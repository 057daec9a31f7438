package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;

/** Open-box: the operations over plain collaborators, a recording flush and a recording journal. */
class OperationsTest {

    private final List<String> events = new ArrayList<>();
    private final List<String> records = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final RecordingFlush flush = new RecordingFlush(events);
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final GuestPages pages = new GuestPages();
    private final AllocationCounters counters = new AllocationCounters();
    private final Quarantine quarantine = new Quarantine(flush, counters, Fixture.silentLogger());
    private final Recorder recorder = new Recorder() {
        @Override public void attached(Collection<Attachment> a) { a.forEach(x -> records.add("attach " + x.device())); }
        @Override public void detached(Collection<PciAddress> d) { d.forEach(x -> records.add("detach " + x)); }
        @Override public void mapped(GuestId g, List<GuestMappings.Run> runs) { records.add("map " + g); }
        @Override public void unmapped(GuestId g, long iova, long count) { records.add("unmap " + g); }
        @Override public boolean durable() { return true; }
    };
    private final Operations operations = new Operations(table, flush, topology, attachments, pages, quarantine,
            counters, recorder);
    private final TestUnit dmar0 = new TestUnit("dmar0", 4, events).withDevices(0x18, 8);
    private final TestUnit dmar1 = new TestUnit("dmar1", 4, events).withDevices(0x3b, 8);
    private final PciAddress a = dmar0.deviceList().get(0);
    private final PciAddress b = dmar0.deviceList().get(1);
    private final PciAddress c = dmar1.deviceList().get(0);
    private final DomainIdAllocator allocator;

    OperationsTest() {
        for (TestUnit u : List.of(dmar0, dmar1)) {
            topology.add(u);
            topology.describe(UnitDescriptor.of(u));
            topology.indexUnit(u);
        }
        allocator = new PerUnitStrategy().open(topology.descriptors(), List.of());
    }

    @Test
    void aGuestsDevicesOnOneUnitShareOneIdAndTheJournalHasThemBeforeTheCallReturns() {
        operations.attach(allocator, GuestId.guest(5), Set.of(a), false);
        operations.attach(allocator, GuestId.guest(5), Set.of(b), false);
        assertThat(dmar0.contexts).containsEntry(a, new DeviceContext(DomainId.of(1), GuestId.guest(5)))
                .containsEntry(b, new DeviceContext(DomainId.of(1), GuestId.guest(5)));
        assertThat(table.domainId(GuestId.guest(5), "dmar0")).contains(DomainId.of(1));
        assertThat(records).containsExactly("attach " + a, "attach " + b);
        assertThat(events).containsSubsequence("dmar0 set " + a + " did 1 guest 5", "dmar0 flush " + a + " did 1 new");
    }

    @Test
    void anAttachThatFailsMidwayLeavesNothingBehind() {
        // dmar1 refuses c's context entry, after a was attached on dmar0
        TestUnit refusing = new TestUnit("dmar1", 4, events) {
            @Override
            public synchronized void setContext(PciAddress device, DeviceContext context) {
                throw new IllegalStateException("injected: the unit refuses");
            }
        }.withDevices(0x3b, 8);
        topology.remove(dmar1);
        topology.add(refusing);
        assertThatThrownBy(() -> operations.attach(allocator, GuestId.guest(5), new java.util.LinkedHashSet<>(List.of(a, c)),
                false)).isInstanceOf(IommuException.class).hasMessage("injected: the unit refuses");
        assertThat(dmar0.contexts).isEmpty();
        assertThat(attachments.size()).isZero();
        assertThat(table.guests()).isEmpty();
        assertThat(allocator.inUse("dmar0").isEmpty()).as("the id went back after its invalidation").isTrue();
        assertThat(records).isEmpty();
    }

    @Test
    void detachReleasesTheIdOnlyAfterTheGuestsLastDeviceThereWasFlushed() {
        operations.attach(allocator, GuestId.guest(5), new java.util.LinkedHashSet<>(List.of(a, b)), false);
        operations.detach(allocator, Set.of(a));
        assertThat(allocator.inUse("dmar0").get(1)).as("b still holds it").isTrue();
        events.clear();
        operations.detach(allocator, Set.of(b));
        assertThat(events).containsExactly("dmar0 clear " + b, "dmar0 flush " + b + " did 1");
        assertThat(allocator.inUse("dmar0").isEmpty()).isTrue();
        assertThat(table.guests()).isEmpty();
        assertThat(records).containsExactly("attach " + a, "attach " + b, "detach " + a, "detach " + b);
    }

    @Test
    void aFailedFlushOnDetachChangesNothing() {
        operations.attach(allocator, GuestId.guest(5), Set.of(a), false);
        flush.failing = true;
        assertThatThrownBy(() -> operations.detach(allocator, Set.of(a))).isInstanceOf(IommuException.class)
                .hasMessageStartingWith("detach failed, nothing changed: ");
        assertThat(dmar0.contexts).containsKey(a);
        assertThat(attachments.contains(a)).isTrue();
        assertThat(allocator.inUse("dmar0").get(1)).isTrue();
    }

    @Test
    void mapReachesEveryUnitOfTheGuestAndUnmapIsFlushed() {
        operations.attach(allocator, GuestId.guest(5), new java.util.LinkedHashSet<>(List.of(a, c)), false);
        events.clear();
        operations.map(GuestId.guest(5), 0x10000, 0x4000000, 4);
        assertThat(events).containsExactly("dmar0 map guest 5 0x10000->0x4000000 x4",
                "dmar1 map guest 5 0x10000->0x4000000 x4");
        assertThatThrownBy(() -> operations.map(GuestId.guest(5), 0x12000, 0x0, 1))
                .hasMessage("guest 5 already maps 4 pages at IOVA 0x10000: unmap them first");
        events.clear();
        operations.unmap(GuestId.guest(5), 0x10000, 4);
        assertThat(events).containsExactly("dmar0 unmap guest 5 0x10000 x4", "dmar1 unmap guest 5 0x10000 x4",
                "flush pages 5");
        assertThat(pages.of(GuestId.guest(5))).isNull();
        assertThat(records).endsWith("map 5", "unmap 5");
    }

    @Test
    void argumentsAreCheckedBeforeAnything() {
        assertThatThrownBy(() -> Operations.requireGuest(GuestId.HOST)).hasMessageStartingWith("guest 0 is the host");
        assertThatThrownBy(() -> Operations.distinct(List.of())).hasMessageStartingWith("no device given");
        assertThatThrownBy(() -> Operations.distinct(List.of(a, a))).hasMessage("device " + a + " is given twice");
        assertThatThrownBy(() -> operations.detach(allocator, Set.of(a))).hasMessage("device " + a
                + " is not attached to any guest");
    }
}
