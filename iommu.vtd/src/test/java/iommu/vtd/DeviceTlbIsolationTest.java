package iommu.vtd;

import static iommu.vtd.ModelFixtures.ATS_ECAP;
import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.GPU;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.GUEST_2;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.VF1;
import static iommu.vtd.ModelFixtures.VF2;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.Translation;
import iommu.vtd.IsolationTest.Platform;
import iommu.vtd.IsolationTest.Skip;

/**
 * DESIGN 7.1 with device-TLBs: an SR-IOV NIC with ATS below an ATSR root
 * port, on a unit with ECAP.DT, gets TT=1 and caches its translations in its
 * own device-TLB, which only a device-TLB invalidation drops. With it after
 * every IOTLB invalidation, a device's DMA reaches only its current owner's
 * pages; skipping it shows the stale translation it guards against.
 */
class DeviceTlbIsolationTest {

    static final long PAGE = 0x10;

    private static Platform platform(Set<Skip> skip) {
        return new Platform(ModelFixtures.atsUnit(CLIENT_CAP, ATS_ECAP), skip);
    }

    @Test
    void anAtsDeviceGetsTtOneAndItsDeviceTlbFillsOnItsFirstDma() {
        Platform p = platform(EnumSet.noneOf(Skip.class));
        assertThat(p.unit.hasDeviceTlb(VF1)).as("a VF of the ATS PF below the ATSR port").isTrue();
        assertThat(p.unit.hasDeviceTlb(GPU)).as("no ATS capability").isFalse();
        p.attach(GUEST_1, VF1);
        p.attach(GUEST_2, GPU);
        assertThat(p.unit.contextEntry(VF1).translationType()).isEqualTo(ContextEntry.TT_DEVICE_TLB);
        assertThat(p.unit.contextEntry(GPU).translationType()).isEqualTo(ContextEntry.TT_UNTRANSLATED);
        assertThat(p.unit.describeContext(VF1)).containsEntry("TT", 1).containsEntry("ATS", "enabled")
                .containsEntry("deviceTlbEntries", 0);
        p.map(GUEST_1, PAGE, 0xAAAA);
        assertThat(p.unit.translate(VF1, PAGE << 12 | 0x123).hostAddress()).hasValue(0xAAAAL << 12 | 0x123);
        assertThat(p.unit.deviceTlbEntries(VF1)).isEqualTo(1);
        assertThat(p.unit.deviceTlbs(DomainId.of(1))).containsExactly(VF1);
        assertThat(p.unit.deviceTlbs(DomainId.of(2))).isEmpty();
    }

    @Test
    void withoutEcapDtTheSameDeviceTranslatesWithoutADeviceTlb() {
        Platform p = new Platform(ModelFixtures.atsUnit(CLIENT_CAP, QI_ECAP), EnumSet.noneOf(Skip.class));
        assertThat(p.unit.hasDeviceTlb(VF1)).isFalse();
        p.attach(GUEST_1, VF1);
        p.map(GUEST_1, PAGE, 0xAAAA);
        p.unit.translate(VF1, PAGE << 12);
        assertThat(p.unit.contextEntry(VF1).translationType()).isZero();
        assertThat(p.unit.deviceTlbEntries(VF1)).isZero();
        assertThat(p.unit.describeContext(VF1)).doesNotContainKey("ATS");
    }

    @Test
    void skippingTheDeviceTlbInvalidationOnUnmapLeavesTheUnmappedPageReachable() {
        for (boolean skip : new boolean[] {false, true}) {
            Platform p = platform(skip ? EnumSet.of(Skip.DEVICE_TLB_ON_UNMAP) : EnumSet.noneOf(Skip.class));
            p.attach(GUEST_1, VF1);
            p.map(GUEST_1, PAGE, 0xAAAA);
            p.unit.translate(VF1, PAGE << 12); // the device-TLB fills
            p.unmap(GUEST_1, PAGE); // the IOTLB is invalidated either way
            Translation t = p.unit.translate(VF1, PAGE << 12);
            if (skip) {
                assertThat(t.hostAddress()).as("stale: the device-TLB still translates it").hasValue(0xAAAAL << 12);
            } else {
                assertThat(t.faultReason()).as("PTE read access is not set").isEqualTo(0x6);
            }
        }
    }

    @Test
    void skippingItOnDetachLetsTheNextOwnerOfTheDeviceReachThePreviousOwnersPage() {
        for (boolean skip : new boolean[] {false, true}) {
            Platform p = platform(skip ? EnumSet.of(Skip.DEVICE_TLB_ON_DETACH) : EnumSet.noneOf(Skip.class));
            p.attach(GUEST_1, VF1);
            p.map(GUEST_1, PAGE, 0xAAAA);
            p.unit.translate(VF1, PAGE << 12);
            p.detach(VF1);
            // detached, ATS is disabled: the device's requests are untranslated and fault, stale cache or not
            assertThat(p.unit.translate(VF1, PAGE << 12).faultReason()).isEqualTo(0x2);
            p.attach(GUEST_2, VF1);
            Translation t = p.unit.translate(VF1, PAGE << 12);
            if (skip) {
                assertThat(t.hostAddress()).as("guest 2's device reaches guest 1's page").hasValue(0xAAAAL << 12);
            } else {
                assertThat(t.faultReason()).as("guest 2 maps nothing there").isEqualTo(0x6);
            }
        }
    }

    @Test
    void aTranslatedRequestIsBlockedUnlessTheContextEntryHasTtOne() {
        Platform p = platform(EnumSet.noneOf(Skip.class));
        int did = p.attach(GUEST_1, VF1);
        p.map(GUEST_1, PAGE, 0xAAAA);
        p.unit.translate(VF1, PAGE << 12);
        // behind the driver's back: the same entry with TT=0, its context-cache entry invalidated
        ContextEntry e = p.unit.contextEntry(VF1);
        synchronized (p.unit.lock()) {
            p.unit.contexts().write(VF1.routingId(), ContextEntry.translating(e.secondLevelPointer(), e.addressWidth(),
                    did));
        }
        p.flush(new Invalidation.Device(VF1, DomainId.of(did)));
        Translation t = p.unit.translate(VF1, PAGE << 12);
        assertThat(t.faultReason()).as("a device-TLB hit is a translated request: TT=0 blocks it").isEqualTo(0xD);
        assertThat(t.fault()).contains("PCE for translation request specifies blocking");
    }

    /**
     * Random attach, detach, map, unmap and DMA over ATS VFs (seeded): with
     * every invalidation no translation differs from the reference; with the
     * device-TLB invalidation skipped on detach or on unmap, some does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"", "DEVICE_TLB_ON_DETACH", "DEVICE_TLB_ON_UNMAP"})
    void randomizedReassignmentOfAtsDevicesNeverShowsAStaleTranslationUnlessTheDeviceTlbFlushIsSkipped(String skipped) {
        Set<Skip> skip = skipped.isEmpty() ? EnumSet.noneOf(Skip.class) : EnumSet.of(Skip.valueOf(skipped));
        Platform p = platform(skip);
        List<PciAddress> devices = p.unit.devices().stream().filter(p.unit::hasDeviceTlb).limit(4).toList();
        assertThat(devices).hasSize(4);
        List<GuestId> guests = new ArrayList<>();
        for (int g = 1; g <= 6; g++) {
            guests.add(GuestId.guest(g));
        }
        Random random = new Random(20250115L + skipped.hashCode());
        int stale = 0;
        int hits = 0;
        for (int step = 0; step < 10_000; step++) {
            PciAddress device = devices.get(random.nextInt(devices.size()));
            GuestId guest = guests.get(random.nextInt(guests.size()));
            long page = random.nextInt(4);
            switch (random.nextInt(6)) {
                case 0 -> {
                    if (p.owner.containsKey(device)) {
                        p.detach(device);
                    } else {
                        p.attach(guest, device);
                    }
                }
                case 1 -> {
                    if (!p.mappings.getOrDefault(guest, Map.of()).containsKey(page)) {
                        p.map(guest, page, 0x1000L * guest.value() + random.nextInt(0x1000));
                    }
                }
                case 2 -> {
                    if (p.mappings.getOrDefault(guest, Map.of()).containsKey(page)) {
                        p.unmap(guest, page);
                    }
                }
                default -> {
                    Long expected = p.expected(device, page);
                    Translation t = p.unit.translate(device, page << 12);
                    boolean right = expected == null ? t.isFault()
                            : t.hostAddress().isPresent() && t.hostAddress().getAsLong() == expected << 12;
                    if (!right) {
                        stale++;
                    } else if (expected != null) {
                        hits++;
                    }
                }
            }
        }
        if (skip.isEmpty()) {
            assertThat(hits).as("translations that reached a mapping").isGreaterThan(500);
            assertThat(stale).as("stale translations with every invalidation done").isZero();
        } else {
            assertThat(stale).as("stale translations with %s skipped", skipped).isPositive();
        }
    }

    @Test
    void aDeviceThatDoesNotAnswerFailsItsBatchWithAnInvalidationTimeOutAndKeepsItsCache() {
        Platform p = platform(EnumSet.noneOf(Skip.class));
        int did = p.attach(GUEST_1, VF1);
        p.map(GUEST_1, PAGE, 0xAAAA);
        p.unit.translate(VF1, PAGE << 12);
        p.unit.deviceAnswers(VF1, false);
        var stage = p.unit.invalidate(List.of(new Invalidation.Pages(DomainId.of(did), PAGE << 12, 0),
                new Invalidation.DeviceTlb(VF1, PAGE << 12, 0))).toCompletableFuture();
        assertThat(stage).isCompletedExceptionally();
        assertThat(stage.handle((ok, e) -> e.getCause() == null ? e : e.getCause()).join())
                .isInstanceOf(iommu.api.InvalidationException.class)
                .hasMessage("unit dmar0: the device-TLB invalidation of 01:10.0 did not complete: the device did not"
                        + " answer within the time-out (FSTS.ITE, IQERCD.ITESID 0x0180); the batch's invalidation"
                        + " wait was aborted");
        // the driver cleared ITE (qi_check_fault); ITESID stays readable; nothing is left pending
        assertThat(p.unit.readRegister(Registers.FSTS, 4) & Registers.FSTS_ITE).isZero();
        assertThat(Registers.iqercdItesid(p.unit.readRegister(Registers.IQERCD, 8))).isEqualTo(0x0180);
        assertThat(p.unit.pendingInvalidationBatches()).isZero();
        assertThat(p.unit.deviceTlbEntries(VF1)).as("nothing dropped: the page must stay in use").isEqualTo(1);
        // the queue goes on: another device's batch completes, and this one's once the device answers
        p.attach(GUEST_1, VF2);
        assertThat(p.unit.invalidate(List.of(Invalidation.DeviceTlb.all(VF2))).toCompletableFuture()).isCompleted();
        p.unit.deviceAnswers(VF1, true);
        p.unit.invalidate(List.of(Invalidation.DeviceTlb.all(VF1))).toCompletableFuture().join();
        assertThat(p.unit.deviceTlbEntries(VF1)).isZero();
        assertThat(p.unit.invalidationCounts()).containsEntry("device-tlb", 3L).containsEntry("performed.device-tlb",
                2L);
    }

    @Test
    void aDeviceTlbInvalidationOnAUnitWithoutDeviceTlbsIsRefusedWhole() {
        VtdUnit unit = ModelFixtures.atsUnit(CLIENT_CAP, QI_ECAP);
        var stage = unit.invalidate(List.of(new Invalidation.Domain(DomainId.of(1)), Invalidation.DeviceTlb.all(VF1)))
                .toCompletableFuture();
        assertThat(stage).isCompletedExceptionally();
        assertThat(stage.handle((ok, e) -> e.getMessage()).join()).contains("unit dmar0: device-TLB invalidation of"
                + " 0000:01:10.0: ECAP.DT clear and ECAP.QI set: expected both");
        assertThat(unit.invalidationCounts()).containsEntry("domain", 0L).containsEntry("device-tlb", 0L);
    }
}
