package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;
import iommu.api.spi.Translation;

/**
 * Isolation across reassignments on the AMD-Vi model: only the current
 * owner's mapping is ever translated when the platform invalidates as the
 * flush bundle does, and a skipped invalidation shows as a stale translation.
 */
class IsolationTest {

    static final GuestId G1 = GuestId.guest(1);
    static final GuestId G2 = GuestId.guest(2);
    static final PciAddress NIC = PciAddress.parse("01:00.0");
    static final PciAddress NIC2 = PciAddress.parse("01:00.1");
    static final long IOVA = 0x1000;

    AmdViUnit unit;
    AmdViUnit aliased;

    @BeforeEach
    void units() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        List<AmdViUnit> units = registry.addAll(IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-11h.aml"))
                .units(), "t");
        unit = units.get(0);
        aliased = units.get(1);
    }

    static DeviceContext ctx(int did, GuestId guest) {
        return new DeviceContext(DomainId.of(did), guest);
    }

    /** What the platform does on attach: write the entry, then (AMD-Vi caches every DTE) invalidate it. */
    static void attach(AmdViUnit u, PciAddress d, int did, GuestId g) {
        u.setContext(d, ctx(did, g));
        wait(u, new Invalidation.Device(d, DomainId.of(0)), new Invalidation.Domain(DomainId.of(did)));
    }

    /** What the platform does on detach: clear the entry, invalidate it and the domain's translations. */
    static void detach(AmdViUnit u, PciAddress d, int did) {
        u.clearContext(d);
        wait(u, new Invalidation.Device(d, DomainId.of(did)), new Invalidation.Domain(DomainId.of(did)));
    }

    static void wait(AmdViUnit u, Invalidation... batch) {
        assertThat(u.invalidate(List.of(batch)).toCompletableFuture()).isCompleted();
    }

    static long hit(Translation t) {
        assertThat(t.isFault()).as("%s", t.fault()).isFalse();
        return t.hostAddress().getAsLong();
    }

    @Test
    void aGuestsMappingsReadBackAsRuns() {
        assertThat(unit.mappings(G1)).contains(List.of());
        unit.map(G1, 0x20_0000, 0x9000_0000L, 2);
        unit.map(G1, 0x1F_F000, 0x8FFF_F000L, 1);
        unit.map(G1, 0x20_2000, 0x7000_0000L, 1);
        assertThat(unit.mappings(G1)).contains(List.of(new iommu.api.spi.MappedRange(0x1F_F000, 0x8FFF_F000L, 3),
                new iommu.api.spi.MappedRange(0x20_2000, 0x7000_0000L, 1)));
        assertThat(unit.mappings(G2)).contains(List.of());
    }

    @Test
    void aDeviceMovedBetweenGuestsSeesOnlyItsNewOwnersMapping() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1);
        unit.map(G2, IOVA, 0xBBBB_0000L, 1);
        attach(unit, NIC, 1, G1);
        assertThat(hit(unit.translate(NIC, IOVA + 0x10))).isEqualTo(0xAAAA_0010L);
        detach(unit, NIC, 1);
        attach(unit, NIC, 2, G2);
        assertThat(hit(unit.translate(NIC, IOVA + 0x10))).isEqualTo(0xBBBB_0010L);
        assertThat(unit.context(NIC)).contains(ctx(2, G2));
    }

    @Test
    void aDetachedDeviceIsBlockedAndTheFaultIsLogged() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1);
        attach(unit, NIC, 1, G1);
        hit(unit.translate(NIC, IOVA));
        detach(unit, NIC, 1);
        Translation t = unit.translate(NIC, IOVA);
        assertThat(t.isFault()).isTrue();
        assertThat(t.faultReason()).isEqualTo(Event.IO_PAGE_FAULT);
        assertThat(t.fault()).isEqualTo("ivhd0: Event logged [IO_PAGE_FAULT device=0000:01:00.0 domain=0x0000"
                + " address=0x1000 flags=0x0100]");
        assertThat(unit.events()).last().isEqualTo(new Event(Event.IO_PAGE_FAULT, 0x0100, 0, Event.FLAG_TR, IOVA));
    }

    @Test
    void aFreedDomainIdReusedByAnotherGuestCarriesNoStaleTranslation() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1);
        attach(unit, NIC, 5, G1);
        hit(unit.translate(NIC, IOVA)); // IOTLB (5, page 1) -> guest 1's page
        detach(unit, NIC, 5);
        unit.unmap(G1, IOVA, 1);
        // domain id 5 is free again; guest 2 gets it for another device
        unit.map(G2, IOVA, 0xBBBB_0000L, 1);
        attach(unit, NIC2, 5, G2);
        assertThat(hit(unit.translate(NIC2, IOVA))).isEqualTo(0xBBBB_0000L);
    }

    @Test
    void reusingADomainIdWithoutTheDomainInvalidationShowsTheOldGuestsPage() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1);
        attach(unit, NIC, 5, G1);
        hit(unit.translate(NIC, IOVA));
        unit.clearContext(NIC);
        wait(unit, new Invalidation.Device(NIC, DomainId.of(5))); // the IOTLB invalidation of domain 5 skipped
        unit.map(G2, IOVA, 0xBBBB_0000L, 1);
        unit.setContext(NIC2, ctx(5, G2));
        wait(unit, new Invalidation.Device(NIC2, DomainId.of(0))); // and no domain invalidation on attach either
        // guest 2's device reads guest 1's page: why a domain id is freed only after its invalidation completed
        assertThat(hit(unit.translate(NIC2, IOVA))).isEqualTo(0xAAAA_0000L);
        wait(unit, new Invalidation.Domain(DomainId.of(5)));
        assertThat(hit(unit.translate(NIC2, IOVA))).isEqualTo(0xBBBB_0000L);
    }

    @Test
    void aSkippedDeviceTableInvalidationLeavesTheOldEntryInUse() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1);
        unit.map(G2, IOVA, 0xBBBB_0000L, 1);
        attach(unit, NIC, 1, G1);
        hit(unit.translate(NIC, IOVA));
        unit.clearContext(NIC);
        unit.setContext(NIC, ctx(2, G2)); // no INVALIDATE_DEVTAB_ENTRY: the DTE cache still holds domain 1
        assertThat(hit(unit.translate(NIC, IOVA))).isEqualTo(0xAAAA_0000L);
        wait(unit, new Invalidation.Device(NIC, DomainId.of(1)));
        assertThat(hit(unit.translate(NIC, IOVA))).isEqualTo(0xBBBB_0000L);
    }

    @Test
    void aFaultAfterUnmapOnceThePagesAreInvalidated() {
        unit.map(G1, 0x10_0000L, 0xAAAA_0000L, 16);
        attach(unit, NIC, 1, G1);
        assertThat(hit(unit.translate(NIC, 0x10_3000L))).isEqualTo(0xAAAA_3000L);
        unit.unmap(G1, 0x10_0000L, 16);
        // not yet invalidated: the IOTLB still translates (stale)
        assertThat(hit(unit.translate(NIC, 0x10_3000L))).isEqualTo(0xAAAA_3000L);
        wait(unit, new Invalidation.Pages(DomainId.of(1), 0x10_0000L, 4));
        Translation t = unit.translate(NIC, 0x10_3000L, true);
        assertThat(t.faultReason()).isEqualTo(Event.IO_PAGE_FAULT);
        assertThat(unit.events()).last().satisfies(e -> {
            assertThat(e.domainId()).isEqualTo(1);
            assertThat(e.address()).isEqualTo(0x10_3000L);
            assertThat(e.flags() & Event.FLAG_RW).isEqualTo(Event.FLAG_RW);
        });
    }

    @Test
    void aPageInvalidationOutsideTheRangeKeepsOtherPagesCached() {
        unit.map(G1, 0, 0xAAAA_0000L, 32);
        attach(unit, NIC, 1, G1);
        hit(unit.translate(NIC, 0x0000));
        hit(unit.translate(NIC, 0x1_0000));
        unit.unmap(G1, 0, 32);
        wait(unit, new Invalidation.Pages(DomainId.of(1), 0x1_0000L, 4)); // pages 16..31 only
        assertThat(unit.translate(NIC, 0x1_0000).isFault()).isTrue();
        assertThat(hit(unit.translate(NIC, 0x0000))).isEqualTo(0xAAAA_0000L); // page 0: stale until invalidated
        wait(unit, new Invalidation.Global());
        assertThat(unit.translate(NIC, 0x0000).isFault()).isTrue();
        assertThat(unit.invalidationCounts()).containsEntry("performed.all", 1L);
    }

    @Test
    void writesNeedIw() {
        unit.map(G1, IOVA, 0xAAAA_0000L, 1, true, false);
        attach(unit, NIC, 1, G1);
        hit(unit.translate(NIC, IOVA, false));
        Translation t = unit.translate(NIC, IOVA, true);
        assertThat(t.isFault()).isTrue();
        assertThat(unit.events()).last().extracting(Event::flags)
                .isEqualTo(Event.FLAG_TR | Event.FLAG_RW | Event.FLAG_PR | Event.FLAG_PE);
    }

    @Test
    void globalInvalidationWithoutIaSupGoesEntryByEntry() {
        aliased.map(G1, IOVA, 0xAAAA_0000L, 1);
        attach(aliased, PciAddress.parse("41:00.0"), 1, G1);
        hit(aliased.translate(PciAddress.parse("41:00.0"), IOVA));
        aliased.unmap(G1, IOVA, 1);
        wait(aliased, new Invalidation.Global());
        assertThat(aliased.translate(PciAddress.parse("41:00.0"), IOVA).isFault()).isTrue();
        assertThat(aliased.invalidationCounts()).containsEntry("performed.all", 0L)
                .containsEntry("performed.devtab", 1L + 0x8000).containsEntry("performed.pages", 1L + 0x10000);
    }

    @Test
    void anIllegalDeviceTableEntryIsReportedAsSuch() {
        attach(unit, NIC, 1, G1);
        long at = AmdViUnit.DEVICE_TABLE + 0x100L * 32;
        unit.memory().write64(at, unit.memory().read64(at) | 7L << 9); // paging mode 7: reserved
        wait(unit, new Invalidation.Device(NIC, DomainId.of(1)));
        Translation t = unit.translate(NIC, IOVA);
        assertThat(t.faultReason()).isEqualTo(Event.ILLEGAL_DEV_TABLE_ENTRY);
        assertThat(t.fault()).startsWith("ivhd0: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=0000:01:00.0");
    }

    @Test
    void aDeviceTheUnitDoesNotTranslateIsRefused() {
        assertThatThrownBy(() -> unit.translate(PciAddress.parse("41:00.0"), IOVA))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit ivhd0 does not translate 0000:41:00.0: its IVHD names no such device, expected one"
                        + " of the devices it claims");
        assertThat(unit.devices()).hasSize(266 - 1) // not 00:00.2, the IOMMU itself
               .contains(NIC, PciAddress.parse("00:14.0"));
        assertThat(aliased.devices()).contains(PciAddress.parse("43:00.0"), PciAddress.parse("42:01.0"));
    }
}
