package iommu.vtd;

import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.CLIENT_CAP_CM;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.SERVER_CAP;
import static iommu.vtd.ModelFixtures.VF1;
import static iommu.vtd.ModelFixtures.VF2;
import static iommu.vtd.ModelFixtures.ctx;
import static iommu.vtd.ModelFixtures.did;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.spi.Invalidation;
import iommu.api.spi.Translation;

/** translate(): hits, IOTLB hits, and every fault the model raises, with its fault record. */
class TranslationTest {

    /** CLIENT_CAP: FRO 0x400, NFR 1. */
    static final int FRCD = 0x400;

    final VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);

    void flushAll(VtdUnit u) {
        u.invalidate(List.of(new Invalidation.Global())).toCompletableFuture().join();
    }

    long entryAddress(VtdUnit u, int sid) {
        long root = u.readRegister(Registers.RTADDR, 8) & ~0xFFFL;
        long rootLow = u.memory().read64(root + (sid >>> 8) * 16L);
        return (rootLow & ~0xFFFL) + (sid & 0xFF) * 16L;
    }

    void clearFaults(VtdUnit u, int frcd, int records) {
        for (int i = 0; i < records; i++) {
            u.writeRegister(frcd + 16 * i + 8, 8, Registers.FRCD_F);
        }
        u.writeRegister(Registers.FSTS, 4, Registers.FSTS_RW1C);
    }

    @Test
    void hitsThenHitsTheIotlbWhateverTheTableSaysNow() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, 0x4000, 0x9_0000L, 1);
        assertThat(unit.translate(VF1, 0x4123)).isEqualTo(Translation.hit(0x4123, 0x9_0123L));
        assertThat(unit.iotlbEntries()).isEqualTo(1);
        assertThat(unit.contextCacheEntries()).isEqualTo(1);

        // rewrite the leaf behind the IOTLB's back: the cached translation wins until invalidated
        unit.unmap(GUEST_1, 0x4000, 1);
        unit.map(GUEST_1, 0x4000, 0xA_0000L, 1);
        assertThat(unit.translate(VF1, 0x4123).hostAddress()).hasValue(0x9_0123L);
        unit.invalidate(List.of(new Invalidation.Pages(did(5), 0x4000, 0))).toCompletableFuture().join();
        assertThat(unit.translate(VF1, 0x4123).hostAddress()).hasValue(0xA_0123L);
        assertThat(unit.readRegister(Registers.FSTS, 4)).as("no fault").isZero();
    }

    @Test
    void writesNeedW_readsNeedR_andFaultsAreRecorded() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, 0x1000, 0x7000, 1, true, false);
        unit.map(GUEST_1, 0x2000, 0x8000, 1, false, true);
        assertThat(unit.translate(VF1, 0x1008, false).hostAddress()).hasValue(0x7008L);
        Translation write = unit.translate(VF1, 0x1008, true);
        assertThat(write.faultReason()).isEqualTo(0x5);
        assertThat(write.fault()).isEqualTo("dmar0: [DMA Write] Request device [0000:01:10.0] fault addr 0x1008"
                + " [fault reason 0x05] PTE Write access is not set");
        // the record: FI = the page address, SID 0x0180, reason 5, T 0 (write), F
        assertThat(unit.readRegister(FRCD, 8)).isEqualTo(0x1000L);
        assertThat(unit.readRegister(FRCD + 8, 8)).isEqualTo(0x8000_0005_0000_0180L);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isEqualTo(Registers.FSTS_PPF);
        clearFaults(unit, FRCD, 1);

        assertThat(unit.translate(VF1, 0x2000, true).hostAddress()).hasValue(0x8000L);
        assertThat(unit.translate(VF1, 0x2000, false).faultReason()).isEqualTo(0x6);
        assertThat(unit.readRegister(FRCD + 8, 8)).isEqualTo(0xC000_0006_0000_0180L);
        clearFaults(unit, FRCD, 1);

        assertThat(unit.translate(VF1, 0x3000, false).faultReason()).as("unmapped read").isEqualTo(0x6);
        clearFaults(unit, FRCD, 1);
        assertThat(unit.translate(VF1, 0x3000, true).faultReason()).as("unmapped write").isEqualTo(0x5);
    }

    @Test
    void anOverflowDropsTheFaultAndSetsPfo() {
        Translation first = unit.translate(VF1, 0x1000);
        Translation second = unit.translate(VF2, 0x2000);
        assertThat(first.faultReason()).isEqualTo(0x1);
        assertThat(second.faultReason()).as("still a fault, only not recorded").isEqualTo(0x1);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isEqualTo(Registers.FSTS_PPF | Registers.FSTS_PFO);
        assertThat(unit.readRegister(FRCD, 8)).as("the first one kept").isEqualTo(0x1000L);
        clearFaults(unit, FRCD, 1);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isZero();
        unit.translate(VF2, 0x2000);
        assertThat(unit.readRegister(FRCD + 8, 8)).isEqualTo(0xC000_0001_0000_0181L);
    }

    @Test
    void faultProcessingDisabledStillBlocksButRecordsNothing() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        long entry = entryAddress(unit, VF1.routingId());
        unit.memory().write64(entry, unit.memory().read64(entry) | 2); // FPD
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).isEqualTo(0x6);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isZero();
    }

    @Test
    void contextEntryFaults() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, 0x1000, 0x7000, 1);
        PhysicalMemory memory = unit.memory();
        long entry = entryAddress(unit, VF1.routingId());
        long low = memory.read64(entry);
        long high = memory.read64(entry + 8);

        memory.write64(entry, low | 1L << 4);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("reserved bit 4").isEqualTo(0xB);

        memory.write64(entry, low);
        memory.write64(entry + 8, (high & 0xFF) | 0x300L << 8);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("DID 0x300 beyond ND=2's 256").isEqualTo(0xB);

        memory.write64(entry + 8, (high & ~7L) | 1);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("AW 1 not in SAGAW 0b00100").isEqualTo(0x3);

        memory.write64(entry + 8, high);
        memory.write64(entry, low | 3L << 2);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("TT 11b reserved").isEqualTo(0x3);

        memory.write64(entry, low | 2L << 2);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0xFFFF_F000L).hostAddress()).as("TT 10b pass-through (ECAP.PT)")
                .hasValue(0xFFFF_F000L);

        memory.write64(entry, (1L << 60) | 1);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("table beyond the host address width")
                .isEqualTo(0x7);

        memory.write64(entry, low);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).hostAddress()).hasValue(0x7000L);
        assertThat(unit.translate(VF1, 1L << 39).faultReason()).as("MGAW 39").isEqualTo(0x4);
        assertThat(unit.translate(VF1, 1L << 39).fault()).endsWith("[fault reason 0x04] Access beyond MGAW");
    }

    @Test
    void rootFaults() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        PhysicalMemory memory = unit.memory();
        long root = unit.readRegister(Registers.RTADDR, 8);
        long bus1 = root + 16;
        long rootLow = memory.read64(bus1);

        memory.write64(bus1, rootLow | 1L << 5);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("reserved bit in the root entry").isEqualTo(0xA);

        memory.write64(bus1, (1L << 60) | 1);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("context table beyond HAW").isEqualTo(0x9);

        memory.write64(bus1, rootLow);
        unit.writeRegister(Registers.RTADDR, 8, 1L << 60);
        unit.writeRegister(Registers.GCMD, 4, (Registers.GCMD_TE | Registers.GCMD_QIE | Registers.GCMD_SRTP)
                & 0xFFFF_FFFFL);
        flushAll(unit);
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("root table beyond HAW").isEqualTo(0x8);
    }

    @Test
    void secondLevelEntryFaultsAndSuperPages() {
        VtdUnit server = ModelFixtures.unit(SERVER_CAP, QI_ECAP); // MGAW 48, SLLPS 2M + 1G
        server.setContext(VF1, ctx(5, GUEST_1));
        server.map(GUEST_1, 0x1000, 0x7000, 1);
        PhysicalMemory memory = server.memory();
        long slptptr = server.contextEntry(VF1).secondLevelPointer();
        long l4 = memory.read64(slptptr);
        long l3Table = l4 & ~0xFFFL;
        long l3 = memory.read64(l3Table);

        memory.write64(slptptr, l4 | PageTableEntry.SUPER_PAGE);
        assertThat(server.translate(VF1, 0x1000).faultReason()).as("PS in a level-4 entry").isEqualTo(0xC);
        memory.write64(slptptr, l4);

        // a 1 GiB page at level 3 (SLLPS bit 1): IOVA 0x1000 lands 0x1000 into it
        memory.write64(l3Table, 0x8000_0000L | PageTableEntry.SUPER_PAGE | 3);
        assertThat(server.translate(VF1, 0x1234).hostAddress()).hasValue(0x8000_1234L);
        server.invalidate(List.of(new Invalidation.Domain(did(5)))).toCompletableFuture().join();
        memory.write64(l3Table, 0x8000_1000L | PageTableEntry.SUPER_PAGE | 3);
        assertThat(server.translate(VF1, 0x1234).faultReason()).as("a misaligned super page").isEqualTo(0xC);
        memory.write64(l3Table, l3);

        assertThat(server.translate(VF1, 0x1234).hostAddress()).hasValue(0x7234L);
        assertThat(server.translate(VF1, (1L << 48) - 0x1000).faultReason()).isEqualTo(0x6);
        assertThat(server.translate(VF1, 1L << 48).faultReason()).isEqualTo(0x4);
    }

    @Test
    void cachingModeCachesNotPresentEntriesUnderDidZero() {
        VtdUnit cm = ModelFixtures.unit(CLIENT_CAP_CM, QI_ECAP);
        cm.setContext(VF2, ctx(7, GUEST_1)); // bus 1 gets its context table
        cm.map(GUEST_1, 0x1000, 0x7000, 1);
        assertThat(cm.translate(VF1, 0x1000).faultReason()).isEqualTo(0x2);
        assertThat(cm.contextCacheEntries()).as("the not-present entry is cached").isEqualTo(1);

        cm.setContext(VF1, ctx(5, GUEST_1));
        assertThat(cm.translate(VF1, 0x1000).faultReason()).as("no flush after not-present to present")
                .isEqualTo(0x2);
        cm.invalidate(List.of(new Invalidation.Device(VF1, did(5)))).toCompletableFuture().join();
        assertThat(cm.translate(VF1, 0x1000).faultReason()).as("the cached entry is tagged DID 0, not 5")
                .isEqualTo(0x2);
        cm.invalidate(List.of(new Invalidation.Device(VF1, did(0)), new Invalidation.Domain(did(5))))
                .toCompletableFuture().join();
        assertThat(cm.translate(VF1, 0x1000).hostAddress()).hasValue(0x7000L);

        // the IOTLB caches not-present results too: a map needs an invalidation
        assertThat(cm.translate(VF1, 0x2000).faultReason()).isEqualTo(0x6);
        cm.map(GUEST_1, 0x2000, 0x8000, 1);
        assertThat(cm.translate(VF1, 0x2000).faultReason()).isEqualTo(0x6);
        cm.invalidate(List.of(new Invalidation.Pages(did(5), 0x2000, 0))).toCompletableFuture().join();
        assertThat(cm.translate(VF1, 0x2000).hostAddress()).hasValue(0x8000L);

        // without caching mode, neither is cached
        unit.setContext(VF2, ctx(7, GUEST_1));
        unit.map(GUEST_1, 0x2000, 0x8000, 1);
        assertThat(unit.translate(VF1, 0x2000).faultReason()).isEqualTo(0x2);
        unit.setContext(VF1, ctx(5, GUEST_1));
        assertThat(unit.translate(VF1, 0x2000).hostAddress()).hasValue(0x8000L);
        assertThat(unit.translate(VF1, 0x3000).faultReason()).isEqualTo(0x6);
        unit.map(GUEST_1, 0x3000, 0x9000, 1);
        assertThat(unit.translate(VF1, 0x3000).hostAddress()).hasValue(0x9000L);
    }

    @Test
    void theCachesAreBoundedAndEvictionDropsStaleEntries() {
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, 0, 0x100_0000L, VtdUnit.IOTLB_ENTRIES + 1);
        for (long page = 0; page <= VtdUnit.IOTLB_ENTRIES; page++) {
            unit.translate(VF1, page << 12);
        }
        assertThat(unit.iotlbEntries()).isEqualTo(VtdUnit.IOTLB_ENTRIES);
        // page 0 was the least recently used: evicted, so a remap of it shows without a flush
        unit.unmap(GUEST_1, 0, 1);
        unit.map(GUEST_1, 0, 0x200_0000L, 1);
        assertThat(unit.translate(VF1, 0).hostAddress()).hasValue(0x200_0000L);
        // page 2 was not evicted: stale until invalidated
        unit.unmap(GUEST_1, 0x2000, 1);
        assertThat(unit.translate(VF1, 0x2000).hostAddress()).hasValue(0x100_2000L);
    }
}
