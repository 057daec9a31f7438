package iommu.flush;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.ContextChange;
import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.dto.InvalidationDTO;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;

/**
 * The flush service invalidates the device-TLBs of ATS devices after the
 * IOTLB, in the same batch, on every unmap, detach (context change) and
 * domain flush, as Linux's {@code cache_tag_flush_range} and
 * {@code cache_tag_flush_all} (IOTLB tags before device-TLB tags) and Xen's
 * {@code dev_invalidate_iotlb} (after the IOTLB flush) do, with the size the
 * range needs.
 */
class DeviceTlbFlushTest {

    static final GuestId GUEST = GuestId.guest(5);
    static final DomainId DID = DomainId.of(3);
    static final PciAddress VF1 = PciAddress.parse("0000:18:10.0");
    static final PciAddress VF2 = PciAddress.parse("0000:18:10.1");
    static final PciAddress GPU = PciAddress.parse("0000:3c:00.0");
    final FakeUnit dmar0 = new FakeUnit("dmar0", new InvalidationCapabilities(false, true, 2, true));
    FlushServiceImpl flush;

    @BeforeEach
    void setUp() {
        Map<String, DomainId> domains = new LinkedHashMap<>(Map.of("dmar0", DID));
        DomainIdMap map = new DomainIdMap() {
            @Override public Optional<DomainId> domainId(GuestId guest, String unitId) { return Optional.ofNullable(domains.get(unitId)); }
            @Override public Optional<GuestId> guest(String unitId, DomainId domainId) { return Optional.empty(); }
            @Override public Map<String, DomainId> domainsOf(GuestId guest) { return guest.equals(GUEST) ? domains : Map.of(); }
            @Override public Map<DomainId, GuestId> domainsOn(String unitId) { return Map.of(); }
            @Override public Set<GuestId> guests() { return Set.of(GUEST); }
        };
        flush = new FlushServiceImpl(null, map, FlushServiceImplTest.silentLogger(), FlushServiceImplTest.config(200));
        flush.bindUnit(dmar0);
        dmar0.deviceTlbDevices.addAll(List.of(VF1, VF2));
        dmar0.deviceTlbsOf.put(DID, List.of(VF1, VF2));
    }

    @Test
    void anUnmapInvalidatesTheIotlbThenEachDeviceTlbOfTheDomainWithTheSameAlignedBlock() {
        var report = flush.flushPages(GUEST, 0x11000, 2); // pages 0x11..0x12: the aligned block 0x10..0x13
        assertThat(dmar0.batches).singleElement().isEqualTo(List.of(new Invalidation.Pages(DID, 0x10000, 2),
                new Invalidation.DeviceTlb(VF1, 0x10000, 2), new Invalidation.DeviceTlb(VF2, 0x10000, 2)));
        InvalidationDTO dto = report.invalidations.get(1);
        assertThat(dto.granularity).isEqualTo("device-tlb");
        assertThat(dto.bdf).isEqualTo("0000:18:10.0");
        assertThat(dto.did).as("a device-TLB is not tagged with a domain id").isNull();
        assertThat(dto.iova).isEqualTo(0x10000L);
        assertThat(dto.pages).isEqualTo(4L);
    }

    @Test
    void aRangeBeyondMamvWidensTheIotlbToTheDomainButNotTheDeviceTlbs() {
        flush.flushPages(GUEST, 0x40000, 16); // order 4 > MAMV 2
        assertThat(dmar0.batches.get(0)).containsExactly(new Invalidation.Domain(DID),
                new Invalidation.DeviceTlb(VF1, 0x40000, 4), new Invalidation.DeviceTlb(VF2, 0x40000, 4));
    }

    @Test
    void theWholeAddressSpaceIsTheWholeDeviceTlb() {
        assertThat(InvalidationPlanner.deviceTlbs(List.of(VF1), 0, 1L << 52))
                .containsExactly(Invalidation.DeviceTlb.all(VF1));
        assertThat(InvalidationPlanner.deviceTlbs(List.of(VF1), 0x7000, 1)).containsExactly(
                new Invalidation.DeviceTlb(VF1, 0x7000, 0));
    }

    @Test
    void aGuestOrDomainFlushInvalidatesTheWholeDeviceTlbs() {
        flush.flushGuest(GUEST);
        flush.flushDomain("dmar0", DID);
        List<Invalidation> expected = List.of(new Invalidation.Domain(DID), Invalidation.DeviceTlb.all(VF1),
                Invalidation.DeviceTlb.all(VF2));
        assertThat(dmar0.batches).containsExactly(expected, expected);
        assertThat(FlushServiceImpl.describe("dmar0", Invalidation.DeviceTlb.all(VF1)).pages).isNull();
    }

    @Test
    void aContextChangeInvalidatesTheDevicesWholeDeviceTlbAfterEveryIotlbInvalidationOfTheBatch() {
        DomainId other = DomainId.of(4);
        flush.flushContextChanges(List.of(new ContextChange("dmar0", VF1, DID, false),
                new ContextChange("dmar0", GPU, other, false), new ContextChange("dmar0", VF2, DID, false)));
        assertThat(dmar0.batches).singleElement().isEqualTo(List.of(new Invalidation.Device(VF1, DID),
                new Invalidation.Domain(DID), new Invalidation.Device(GPU, other), new Invalidation.Domain(other),
                new Invalidation.Device(VF2, DID), Invalidation.DeviceTlb.all(VF1), Invalidation.DeviceTlb.all(VF2)));
        dmar0.batches.clear();
        flush.flushDeviceContext("dmar0", VF1, DID, false);
        assertThat(dmar0.batches).singleElement().isEqualTo(List.of(new Invalidation.Device(VF1, DID),
                new Invalidation.Domain(DID), Invalidation.DeviceTlb.all(VF1)));
    }

    @Test
    void aNewlyPresentEntryNeedsNoDeviceTlbInvalidation() {
        flush.flushDeviceContext("dmar0", VF1, DID, true);
        assertThat(dmar0.batches).isEmpty();
    }

    @Test
    void aDeviceThatDoesNotAnswerFailsTheFlush() {
        dmar0.completion = CompletableFuture.failedFuture(new InvalidationException("unit dmar0: the device-TLB"
                + " invalidation of 18:10.0 did not complete"));
        assertThatThrownBy(() -> flush.flushPages(GUEST, 0x10000, 1)).isInstanceOf(InvalidationException.class)
                .hasMessage("invalidation on unit dmar0 failed: unit dmar0: the device-TLB invalidation of 18:10.0 did"
                        + " not complete");
    }
}
