package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
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

/** No guest page in a reserved region of a device it holds (Linux intel_iommu_get_resv_regions). */
class ReservedRegionsTest {

    private final List<String> events = new ArrayList<>();
    private final DomainIdTable table = new DomainIdTable();
    private final RecordingFlush flush = new RecordingFlush(events);
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final GuestPages pages = new GuestPages();
    private final AllocationCounters counters = new AllocationCounters();
    private final Operations operations = new Operations(table, flush, topology, attachments, pages,
            new Quarantine(flush, counters, Fixture.silentLogger()), counters, Recorder.NONE);
    private final TestUnit dmar0 = new TestUnit("dmar0", 8, events) {
        @Override
        public List<IovaRegion> reservedRegions(PciAddress device) {
            return device.equals(usb) ? List.of(new IovaRegion(0x7a000000L, 0x7a0fffffL, IovaRegion.Type.DIRECT_RELAXABLE),
                    IovaRegion.INTERRUPT_WINDOW) : super.reservedRegions(device);
        }
    }.withDevices(0x18, 2);
    private final PciAddress nic = dmar0.deviceList().get(0);
    private final PciAddress usb = dmar0.deviceList().get(1);
    private final DomainIdAllocator allocator;

    ReservedRegionsTest() {
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
        topology.indexUnit(dmar0);
        allocator = new PerUnitStrategy().open(topology.descriptors(), List.of());
    }

    @Test
    void theInterruptWindowIsNeverAGuestsMemory() {
        operations.attach(allocator, GuestId.guest(1), Set.of(nic), false);
        events.clear();
        assertThatThrownBy(() -> operations.map(GuestId.guest(1), 0xfedff000L, 0x4000000L, 2))
                .isInstanceOf(IommuException.class)
                .hasMessage("guest 1 cannot map IOVA 0xfedff000-0xfee00fff: it overlaps the reserved region"
                        + " 0xfee00000-0xfeefffff (msi) of its device " + nic + " (DMA there is an interrupt request,"
                        + " never memory)");
        assertThat(events).isEmpty();
        assertThat(pages.of(GuestId.guest(1))).isNull();
        operations.map(GuestId.guest(1), 0xfef00000L, 0x4000000L, 1); // just past the window
    }

    @Test
    void aDeviceWhoseRegionTheGuestMapsIsRefusedAndNothingChanges() {
        operations.map(GuestId.guest(1), 0x7a080000L, 0x4000000L, 4); // while it holds no device
        assertThatThrownBy(() -> operations.attach(allocator, GuestId.guest(1), Set.of(usb), true))
                .hasMessage("device " + usb + " has the reserved region 0x7a000000-0x7a0fffff (direct-relaxable)"
                        + " (firmware memory the device may DMA to at any time), where guest 1 maps 4 pages at IOVA"
                        + " 0x7a080000: unmap them first");
        assertThat(dmar0.contexts).isEmpty();
        assertThat(allocator.inUse("dmar0").isEmpty()).isTrue();
    }

    @Test
    void regionsKnowTheirBounds() {
        IovaRegion w = IovaRegion.INTERRUPT_WINDOW;
        assertThat(w.overlaps(0xfedff000L, 1)).isFalse();
        assertThat(w.overlaps(0xfedff000L, 2)).isTrue();
        assertThat(w.overlaps(0xfeeff000L, 1)).isTrue();
        assertThat(w.overlaps(0xfef00000L, 1)).isFalse();
        assertThatThrownBy(() -> new IovaRegion(2, 1, IovaRegion.Type.MSI)).hasMessage("region 0x2-0x1 is empty:"
                + " expected first <= last");
    }
}
