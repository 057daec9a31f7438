package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;
import iommu.api.spi.Translation;

class VtdUnitTest {

    static PciAddress bdf(String text) {
        return PciAddress.parse(text);
    }

    static final PciAddress GPU = bdf("0000:00:02.0");
    static final PciAddress USB = bdf("0000:00:14.0");
    static final PciAddress VF1 = bdf("0000:01:10.0");
    static final GuestId GUEST_1 = GuestId.guest(1);
    static final GuestId GUEST_2 = GuestId.guest(2);

    VtdUnit dmar0; // endpoint scope: the GPU
    VtdUnit dmar1; // INCLUDE_PCI_ALL: the rest

    @BeforeEach
    void platform() {
        Platform platform = PlatformFileParser.parse("t.txt", PlatformFileParserTest.VALID);
        UnitRegistry registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "test");
        dmar0 = registry.unit("dmar0").orElseThrow();
        dmar1 = registry.unit("dmar1").orElseThrow();
    }

    static DeviceContext ctx(int did, GuestId guest) {
        return new DeviceContext(DomainId.of(did), guest);
    }

    @Test
    void describesItself() {
        assertThat(dmar0.vendor()).isEqualTo("vt-d");
        assertThat(dmar0.domainIdCount()).isEqualTo(256);
        assertThat(dmar0.reservedDomainIds()).containsExactly(DomainId.of(0));
        assertThat(dmar0.registerBase()).isEqualTo(0xfed90000L);
        assertThat(dmar0.includePciAll()).isFalse();
        assertThat(dmar1.includePciAll()).isTrue();
        assertThat(dmar0.devices()).containsExactly(GPU);
        assertThat(dmar1.devices()).hasSize(10).doesNotContain(GPU).contains(USB, VF1).isSorted();
        assertThat(dmar0.invalidationCapabilities()).isEqualTo(new InvalidationCapabilities(false, true, 18, true));
        assertThat(dmar0.invalidationCounts()).containsExactly(
                Map.entry("device", 0L), Map.entry("domain", 0L), Map.entry("pages", 0L), Map.entry("device-tlb", 0L),
                Map.entry("global", 0L), Map.entry("performed.context.global", 0L),
                Map.entry("performed.context.domain", 0L), Map.entry("performed.context.device", 0L),
                Map.entry("performed.iotlb.global", 0L), Map.entry("performed.iotlb.domain", 0L),
                Map.entry("performed.iotlb.page", 0L), Map.entry("performed.device-tlb", 0L),
                Map.entry("performed.wait", 0L));
        assertThat(dmar0.invalidationMechanism()).isEqualTo("queued");
    }

    @Test
    void readsBackAGuestsMappingsAsRunsInIovaOrder() {
        assertThat(dmar0.mappings(GUEST_1)).contains(List.of());
        dmar0.map(GUEST_1, 0x20_0000, 0x9000_0000L, 2);
        dmar0.map(GUEST_1, 0x1F_F000, 0x8FFF_F000L, 1); // joins the run: adjacent IOVA and host, across a table edge
        dmar0.map(GUEST_1, 0x20_2000, 0x7000_0000L, 1); // adjacent IOVA, host elsewhere: a run of its own
        dmar0.map(GUEST_1, 0x40_0000_0000L, 0x1000, 3);
        dmar0.map(GUEST_2, 0, 0x5000, 1);
        assertThat(dmar0.mappings(GUEST_1)).contains(List.of(
                new iommu.api.spi.MappedRange(0x1F_F000, 0x8FFF_F000L, 3),
                new iommu.api.spi.MappedRange(0x20_2000, 0x7000_0000L, 1),
                new iommu.api.spi.MappedRange(0x40_0000_0000L, 0x1000, 3)));
        dmar0.unmap(GUEST_1, 0x20_0000, 1);
        assertThat(dmar0.mappings(GUEST_1).orElseThrow()).startsWith(
                new iommu.api.spi.MappedRange(0x1F_F000, 0x8FFF_F000L, 1),
                new iommu.api.spi.MappedRange(0x20_1000, 0x9000_1000L, 1));
        assertThat(dmar0.mappings(GUEST_2)).contains(List.of(new iommu.api.spi.MappedRange(0, 0x5000, 1)));
    }

    @Test
    void setsReadsAndClearsContexts() {
        assertThat(dmar1.context(VF1)).isEmpty();
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        assertThat(dmar1.context(VF1)).contains(ctx(5, GUEST_1));
        dmar1.setContext(VF1, ctx(6, GUEST_2));
        assertThat(dmar1.context(VF1)).contains(ctx(6, GUEST_2));
        dmar1.setContext(USB, ctx(255, GUEST_2));
        dmar1.clearContext(VF1);
        assertThat(dmar1.context(VF1)).isEmpty();
        assertThat(dmar1.context(USB)).contains(ctx(255, GUEST_2));
        dmar1.clearContext(VF1); // clearing a not-present entry is harmless
        assertThat(dmar1.context(VF1)).isEmpty();
    }

    @Test
    void rejectsBadContextsAndChangesNothing() {
        dmar1.setContext(VF1, ctx(5, GUEST_1));

        assertThatThrownBy(() -> dmar1.setContext(VF1, ctx(256, GUEST_2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain id 256 out of range on unit dmar1: expected 1..255 (ND=2)");
        assertThatThrownBy(() -> dmar1.setContext(VF1, ctx(0, GUEST_2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("domain id 0 is reserved on unit dmar1: expected 1..255");
        assertThatThrownBy(() -> dmar1.setContext(GPU, ctx(7, GUEST_2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit dmar1 does not translate 0000:00:02.0: unit dmar0 claims it (ENDPOINT)");
        assertThatThrownBy(() -> dmar0.setContext(VF1, ctx(7, GUEST_2)))
                .hasMessage("unit dmar0 does not translate 0000:01:10.0: unit dmar1 claims it (SEGMENT)");
        assertThatThrownBy(() -> dmar1.setContext(bdf("0000:07:00.0"), ctx(7, GUEST_2)))
                .hasMessage("unit dmar1 does not translate 0000:07:00.0: no such device on the platform,"
                        + " expected one of the devices it claims");
        assertThatThrownBy(() -> dmar1.setContext(bdf("0000:00:1c.0"), ctx(7, GUEST_2)))
                .as("a bridge is not a device").hasMessageContaining("no such device");
        assertThatThrownBy(() -> dmar0.clearContext(VF1))
                .hasMessage("unit dmar0 does not translate 0000:01:10.0: unit dmar1 claims it (SEGMENT)");

        assertThat(dmar1.context(VF1)).contains(ctx(5, GUEST_1));
        assertThat(dmar1.context(GPU)).isEmpty();
        assertThat(dmar0.context(VF1)).isEmpty();
        assertThat(dmar0.context(GPU)).isEmpty();
    }

    @Test
    void translatesOnlyWithAPresentContextAndAMapping() {
        // bus 1 has no context table yet: its root entry is not present
        Translation noContext = dmar1.translate(VF1, 0x1000);
        assertThat(noContext.isFault()).isTrue();
        assertThat(noContext.faultReason()).isEqualTo(0x1);
        assertThat(noContext.fault()).isEqualTo("dmar1: [DMA Read] Request device [0000:01:10.0] fault addr 0x1000"
                + " [fault reason 0x01] Present bit in root entry is clear");
        // bus 1 gets a context table, VF1's neighbour's entry stays not present
        dmar1.setContext(bdf("0000:01:10.1"), ctx(7, GUEST_2));
        Translation neighbour = dmar1.translate(VF1, 0x1000);
        assertThat(neighbour.faultReason()).isEqualTo(0x2);
        assertThat(neighbour.fault()).isEqualTo("dmar1: [DMA Read] Request device [0000:01:10.0] fault addr 0x1000"
                + " [fault reason 0x02] Present bit in context entry is clear");

        dmar1.setContext(VF1, ctx(5, GUEST_1));
        Translation unmapped = dmar1.translate(VF1, 0x1000);
        assertThat(unmapped.faultReason()).isEqualTo(0x6);
        assertThat(unmapped.fault()).endsWith("[fault reason 0x06] PTE Read access is not set");

        dmar1.map(GUEST_1, 0x1000, 0x7654_3000L, 2);
        assertThat(dmar1.translate(VF1, 0x1000)).isEqualTo(Translation.hit(0x1000, 0x7654_3000L));
        assertThat(dmar1.translate(VF1, 0x2abc)).isEqualTo(Translation.hit(0x2abc, 0x7654_4abcL));
        assertThat(dmar1.translate(VF1, 0x3000).faultReason()).isEqualTo(0x6);

        // another guest's mapping is not this device's
        dmar1.map(GUEST_2, 0x10000, 0x1_0000_0000L, 1);
        assertThat(dmar1.translate(VF1, 0x10000).faultReason()).isEqualTo(0x6);

        // unmap, then invalidate the pages as a flush would: the page faults
        dmar1.unmap(GUEST_1, 0x2000, 1);
        dmar1.invalidate(List.of(new Invalidation.Pages(DomainId.of(5), 0x2000, 0)));
        assertThat(dmar1.translate(VF1, 0x2000).faultReason()).isEqualTo(0x6);
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0x7654_3000L);

        // cleared context: the context cache still holds the entry until it is invalidated ...
        dmar1.clearContext(VF1);
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0x7654_3000L);
        // ... device-selective, with the domain id the entry was tagged with: then the DMA faults,
        // whatever is mapped or in the IOTLB
        dmar1.invalidate(List.of(new Invalidation.Device(VF1, DomainId.of(5))));
        assertThat(dmar1.translate(VF1, 0x1000).faultReason()).isEqualTo(0x2);

        // beyond MGAW (39 bits)
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        Translation beyond = dmar1.translate(VF1, 1L << 39);
        assertThat(beyond.faultReason()).isEqualTo(0x4);
        assertThat(beyond.fault()).endsWith("Access beyond MGAW");

        assertThatThrownBy(() -> dmar0.translate(VF1, 0x1000))
                .hasMessage("unit dmar0 does not translate 0000:01:10.0: unit dmar1 claims it (SEGMENT)");
    }

    @Test
    void aStaleIotlbEntrySurvivesAMissingInvalidationAndGoesWithADomainInvalidation() {
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        dmar1.map(GUEST_1, 0x1000, 0xaaaa_0000L, 1);
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0xaaaa_0000L); // fills the IOTLB
        assertThat(dmar1.iotlbEntries()).isEqualTo(1);

        // guest 1 goes away without a flush; DID 5 is handed to guest 2 on the same device
        dmar1.unmap(GUEST_1, 0x1000, 1);
        dmar1.clearContext(VF1);
        dmar1.setContext(VF1, ctx(5, GUEST_2));
        dmar1.map(GUEST_2, 0x1000, 0xbbbb_0000L, 1);

        // the missing invalidation shows: guest 2's device reaches guest 1's page
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0xaaaa_0000L);

        // invalidating another domain, or only the device's context, does not help
        dmar1.invalidate(List.of(new Invalidation.Domain(DomainId.of(6)), new Invalidation.Device(VF1, DomainId.of(5))));
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0xaaaa_0000L);

        assertThat(dmar1.invalidate(List.of(new Invalidation.Domain(DomainId.of(5)))).toCompletableFuture()).isDone();
        assertThat(dmar1.iotlbEntries()).isZero();
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0xbbbb_0000L);
        assertThat(dmar1.invalidationCounts()).containsEntry("domain", 2L).containsEntry("device", 1L);
    }

    @Test
    void invalidatesPagesGloballyAndCountsByGranularity() throws Exception {
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        dmar1.setContext(USB, ctx(9, GUEST_2));
        dmar1.map(GUEST_1, 0, 0x10_0000L, 8);
        dmar1.map(GUEST_2, 0, 0x20_0000L, 8);
        for (long page = 0; page < 8; page++) {
            dmar1.translate(VF1, page << 12);
            dmar1.translate(USB, page << 12);
        }
        assertThat(dmar1.iotlbEntries()).isEqualTo(16);

        // pages 4..7 of DID 5 only
        dmar1.invalidate(List.of(new Invalidation.Pages(DomainId.of(5), 0x4000, 2))).toCompletableFuture().get();
        assertThat(dmar1.iotlbEntries()).isEqualTo(12);
        dmar1.invalidate(List.of(new Invalidation.Global())).toCompletableFuture().get();
        assertThat(dmar1.iotlbEntries()).isZero();

        // an order beyond MAMV (18) falls back to the whole domain
        dmar1.translate(VF1, 0);
        dmar1.translate(VF1, 0x7000);
        dmar1.translate(USB, 0);
        dmar1.invalidate(List.of(new Invalidation.Pages(DomainId.of(5), 0, 19)));
        assertThat(dmar1.iotlbEntries()).isEqualTo(1);

        // received: two page requests and a global one; performed: one PSI, one DSI (order 19 > MAMV), a global
        // context-cache and IOTLB invalidation, one wait descriptor per batch
        assertThat(dmar1.invalidationCounts()).containsExactly(
                Map.entry("device", 0L), Map.entry("domain", 0L), Map.entry("pages", 2L), Map.entry("device-tlb", 0L),
                Map.entry("global", 1L), Map.entry("performed.context.global", 1L),
                Map.entry("performed.context.domain", 0L), Map.entry("performed.context.device", 0L),
                Map.entry("performed.iotlb.global", 1L), Map.entry("performed.iotlb.domain", 1L),
                Map.entry("performed.iotlb.page", 1L), Map.entry("performed.device-tlb", 0L),
                Map.entry("performed.wait", 3L));
    }

    @Test
    void aBatchWithAnOutOfRangeDomainIdFailsAndDoesNothing() {
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        dmar1.map(GUEST_1, 0, 0x10_0000L, 1);
        dmar1.translate(VF1, 0);
        var stage = dmar1.invalidate(List.of(new Invalidation.Global(), new Invalidation.Domain(DomainId.of(300))))
                .toCompletableFuture();
        assertThat(stage).isCompletedExceptionally();
        assertThatThrownBy(stage::join).hasCauseInstanceOf(InvalidationException.class)
                .hasMessageContaining("unit dmar1: domain invalidation of domain id 300 out of range: expected 0..255");
        assertThat(dmar1.iotlbEntries()).isEqualTo(1);
        assertThat(dmar1.invalidationCounts().values()).containsOnly(0L);
    }

    @Test
    void refusesBadMappings() {
        dmar1.map(GUEST_1, 0x1000, 0x5000, 1);
        assertThatThrownBy(() -> dmar1.map(GUEST_1, 0x1001, 0x5000, 1))
                .hasMessage("map on unit dmar1: IOVA 0x1001 for 1 pages invalid:"
                        + " expected a 4 KiB-aligned range below 2^39 (MGAW)");
        assertThatThrownBy(() -> dmar1.map(GUEST_1, 0x8000, 0x5800, 1))
                .hasMessage("map on unit dmar1: host address 0x5800 for 1 pages invalid:"
                        + " expected a 4 KiB-aligned range below 2^52");
        assertThatThrownBy(() -> dmar1.map(GUEST_1, 0, 0x9000, 2))
                .hasMessage("map on unit dmar1: IOVA 0x1000 of guest 1 already mapped to 0x5000:"
                        + " expected it unmapped first");
        assertThatThrownBy(() -> dmar1.map(GUEST_1, 0x8000, 0x9000, 0))
                .hasMessage("map on unit dmar1: 0 pages out of range: expected 1..1048576");
        assertThatThrownBy(() -> dmar1.map(GuestId.HOST, 0x8000, 0x9000, 1))
                .hasMessageContaining("the host (guest 0) has no I/O page table");
        assertThatThrownBy(() -> dmar1.map(GUEST_1, (1L << 39) - 0x1000, 0x9000, 2))
                .hasMessageContaining("expected a 4 KiB-aligned range below 2^39 (MGAW)");
        assertThatThrownBy(() -> dmar1.unmap(GUEST_1, 0x1800, 1))
                .hasMessageContaining("unmap on unit dmar1: IOVA 0x1800 for 1 pages invalid");
        // the refused calls changed nothing: page 0 is still free, page 1 still mapped
        dmar1.setContext(VF1, ctx(5, GUEST_1));
        assertThat(dmar1.translate(VF1, 0).isFault()).isTrue();
        assertThat(dmar1.translate(VF1, 0x1000).hostAddress()).hasValue(0x5000L);
    }

    @Test
    void staysConsistentUnderConcurrentUse() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            List<PciAddress> vfs = dmar1.devices().stream().filter(d -> d.bus() == 1 && d.device() >= 0x10).toList();
            for (int t = 0; t < vfs.size(); t++) {
                PciAddress vf = vfs.get(t);
                GuestId guest = GuestId.guest(t + 1);
                int did = t + 1;
                futures.add(pool.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        dmar1.setContext(vf, ctx(did, guest));
                        long iova = (long) round << 12;
                        dmar1.map(guest, iova, (long) (did << 20 | round) << 12, 1);
                        Translation tr = dmar1.translate(vf, iova);
                        assertThat(tr.hostAddress()).hasValue((long) (did << 20 | round) << 12);
                        dmar1.unmap(guest, iova, 1);
                        dmar1.invalidate(List.of(new Invalidation.Pages(DomainId.of(did), iova, 0)));
                        assertThat(dmar1.translate(vf, iova).isFault()).isTrue();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertThat(vfs).hasSize(8);
            assertThat(dmar1.invalidationCounts()).containsEntry("pages", 8L * 200);
        } finally {
            pool.shutdownNow();
        }
    }
}
