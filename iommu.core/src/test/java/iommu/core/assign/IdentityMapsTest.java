package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.IovaRegion;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.audit.Audit;
import iommu.core.recovery.UnitAdoption;

/**
 * A device attached with the reserved-memory override keeps reaching its
 * firmware memory: Xen {@code intel_iommu_assign_device} maps each RMRR of the
 * device ({@code iommu_identity_mapping}) before {@code reassign_device_ownership}
 * writes its context entry, and the map goes when the guest's last device
 * with that RMRR left.
 */
class IdentityMapsTest {

    private static final long RMRR = 0x7a000000L;
    private static final GuestId G1 = GuestId.guest(1);

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
        @Override public void attached(Collection<Attachment> list) { list.forEach(a -> records.add("attach " + a.device())); }
        @Override public void detached(Collection<PciAddress> devices) { devices.forEach(d -> records.add("detach " + d)); }
        @Override public void mapped(GuestId guest, List<GuestMappings.Run> runs) {
            runs.forEach(r -> records.add(String.format("map %s 0x%x x%d", guest, r.iova(), r.pages())));
        }
        @Override public void unmapped(GuestId guest, long iova, long count) {
            records.add(String.format("unmap %s 0x%x x%d", guest, iova, count));
        }
        @Override public boolean durable() { return true; }
    };
    private final Operations operations = new Operations(table, flush, topology, attachments, pages, quarantine,
            counters, recorder);
    private final TestUnit dmar0 = new TestUnit("dmar0", 8, events) {
        @Override
        public List<IovaRegion> reservedRegions(PciAddress device) {
            // two USB controllers share one RMRR, as a DMAR's RMRR scopes often name several devices
            return device.equals(usb) || device.equals(usb2)
                    ? List.of(new IovaRegion(RMRR, RMRR + 0xfffff, IovaRegion.Type.DIRECT), IovaRegion.INTERRUPT_WINDOW)
                    : super.reservedRegions(device);
        }
    }.withDevices(0x18, 3);
    private final PciAddress nic = dmar0.deviceList().get(0);
    private final PciAddress usb = dmar0.deviceList().get(1);
    private final PciAddress usb2 = dmar0.deviceList().get(2);
    private final DomainIdAllocator allocator;

    IdentityMapsTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
        topology.indexUnit(dmar0);
        dmar0.reservedMemory.addAll(Set.of(usb, usb2));
        allocator = new PerUnitStrategy().open(topology.descriptors(), List.of());
    }

    private boolean identityMapped() {
        return IdentityMaps.isMapped(pages.of(G1), new GuestMappings.Run(RMRR >>> 12, RMRR >>> 12, 256));
    }

    private List<String> audit() {
        return Audit.of(topology, attachments, table, pages, quarantine, new iommu.core.assign.HostDomain(iommu.core.assign.HostDomain.Mode.NONE),
                new iommu.core.assign.DeviceQuarantine(iommu.core.assign.DeviceQuarantine.Mode.NONE), new Audit.Strategy("per-unit", allocator, null));
    }

    @Test
    void intelIommuAssignDeviceMapsTheRmrrBeforeTheContextEntryAndRecordsTheAttachFirst() {
        operations.attach(allocator, G1, Set.of(usb), true);
        assertThat(identityMapped()).isTrue();
        String map = String.format("dmar0 map guest 1 0x%x->0x%x x256", RMRR, RMRR);
        assertThat(events).contains(map, "dmar0 set " + usb + " did 1 guest 1");
        assertThat(events.indexOf(map)).as("mapped before the entry is present").isLessThan(events.indexOf("dmar0 set "
                + usb + " did 1 guest 1"));
        // a write torn between them leaves an attachment recovery completes, never a map without its device
        assertThat(records).containsExactly("attach " + usb, String.format("map 1 0x%x x256", RMRR));
        assertThat(audit()).isEmpty();
    }

    @Test
    void aSharedRmrrStaysUntilTheGuestsLastDeviceWithItLeavesReassignDeviceOwnership() {
        operations.attach(allocator, G1, Set.of(usb), true);
        operations.attach(allocator, G1, Set.of(usb2, nic), true);
        assertThat(records).filteredOn(r -> r.startsWith("map")).hasSize(1);
        operations.detach(allocator, Set.of(usb));
        assertThat(identityMapped()).as("usb2 still DMAs there").isTrue();
        events.clear();
        records.clear();
        operations.detach(allocator, Set.of(usb2));
        assertThat(identityMapped()).isFalse();
        assertThat(pages.of(G1)).isNull();
        assertThat(events).containsSubsequence("dmar0 clear " + usb2, String.format("dmar0 unmap guest 1 0x%x x256",
                RMRR), "flush pages 1");
        assertThat(records).as("unmaps first: a torn write leaves the device with its map restored on recovery")
                .containsExactly(String.format("unmap 1 0x%x x256", RMRR), "detach " + usb2);
        assertThat(audit()).isEmpty();
    }

    @Test
    void theGuestCanNeitherMapNorUnmapItsDevicesFirmwareMemory() {
        operations.attach(allocator, G1, Set.of(usb), true);
        events.clear();
        records.clear();
        assertThatThrownBy(() -> operations.map(G1, RMRR + 0x1000, 0x4000000L, 1)).isInstanceOf(IommuException.class)
                .hasMessageContaining("overlaps the reserved region 0x7a000000-0x7a0fffff (direct) of its device " + usb);
        assertThatThrownBy(() -> operations.unmap(G1, RMRR - 0x1000, 2)).isInstanceOf(IommuException.class)
                .hasMessage("guest 1 cannot unmap IOVA 0x79fff000-0x7a000fff: it overlaps the identity map of"
                        + " 0x7a000000-0x7a0fffff (direct), firmware memory its device " + usb + " DMAs to at any"
                        + " time; it goes when the device is detached");
        assertThat(events).isEmpty();
        assertThat(records).isEmpty();
        assertThat(identityMapped()).isTrue();
    }

    @Test
    void aFailedAttachTakesTheIdentityMapBackWithItsEntry() {
        operations.map(G1, 0x10000, 0x4000000L, 1);
        flush.failing = true;
        assertThatThrownBy(() -> operations.attach(allocator, G1, Set.of(usb), true)).isInstanceOf(IommuException.class);
        flush.failing = false;
        assertThat(identityMapped()).isFalse();
        assertThat(pages.of(G1).runs()).containsExactly(new GuestMappings.Run(0x10, 0x4000, 1));
        assertThat(dmar0.contexts).isEmpty();
        assertThat(records).containsExactly("map 1 0x10000 x1");
    }

    @Test
    void withoutTheOverrideNoIdentityMapIsMadeBecauseTheAttachIsRefused() {
        assertThatThrownBy(() -> operations.attach(allocator, G1, Set.of(usb), false))
                .hasMessageContaining("attaching it needs the reserved-memory override");
        assertThat(pages.of(G1)).isNull();
        assertThat(events).isEmpty();
    }

    @Test
    void recoveryRestoresTheMapOfAnAttachmentWhoseRecordsWereTornAndVerifyReportsOneMissing() {
        operations.attach(allocator, G1, Set.of(usb), true);
        pages.remove(G1, RMRR, 256); // as a journal torn after the attach line reads back
        assertThat(audit()).containsExactly(String.format("device %s of guest 1: its firmware memory at 0x%x (256"
                + " pages) is not identity-mapped in the guest's space, so its DMA there faults", usb, RMRR));
        records.clear();
        UnitAdoption adoption = new UnitAdoption(table, flush, topology, attachments, pages, recorder,
                Fixture.silentLogger());
        assertThat(adoption.adopt(dmar0).problems()).isEmpty();
        assertThat(identityMapped()).isTrue();
        assertThat(records).containsExactly(String.format("map 1 0x%x x256", RMRR));
        assertThat(audit()).isEmpty();
    }
}
