package iommu.vtd;

import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.GUEST_2;
import static iommu.vtd.ModelFixtures.IVB_CAP;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.REGISTER_ECAP;
import static iommu.vtd.ModelFixtures.USB;
import static iommu.vtd.ModelFixtures.VF1;
import static iommu.vtd.ModelFixtures.ctx;
import static iommu.vtd.ModelFixtures.did;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.spi.Invalidation;

/**
 * Bit-exact layouts against the VT-d specification (chapters 6.5, 9, 11) and
 * Linux's macros ({@code QI_CC_*}, {@code QI_IOTLB_*}, {@code QI_IWD_*},
 * {@code DMA_CCMD_*}, {@code DMA_TLB_*}): the expected values are written out
 * by hand from the field positions, not computed by the code under test.
 */
class EntryLayoutTest {

    // ---- root entry: P 0, CTP 63:12, the rest reserved ------------------------

    @Test
    void rootEntry() {
        RootEntry entry = new RootEntry(true, 0x0000_0040_1234_5000L);
        assertThat(entry.low()).isEqualTo(0x0000_0040_1234_5001L);
        assertThat(entry.high()).isZero();
        assertThat(RootEntry.decode(0x0000_0040_1234_5001L, 0)).isEqualTo(entry);
        assertThat(RootEntry.NOT_PRESENT.low()).isZero();
        assertThat(RootEntry.reservedBitsSet(0x1001L, 0)).isFalse();
        assertThat(RootEntry.reservedBitsSet(0x1003L, 0)).as("bit 1").isTrue();
        assertThat(RootEntry.reservedBitsSet(0x1801L, 0)).as("bit 11").isTrue();
        assertThat(RootEntry.reservedBitsSet(0x1001L, 1)).as("bit 64").isTrue();
        assertThatThrownBy(() -> new RootEntry(true, 0x1800)).hasMessageContaining("4 KiB-aligned");
    }

    // ---- context entry: P 0, FPD 1, TT 3:2, SLPTPTR 63:12, AW 66:64, DID 87:72 ----

    @Test
    void contextEntry() {
        ContextEntry entry = ContextEntry.translating(0x0000_0040_ABCD_E000L, 2, 0x1234);
        assertThat(entry.low()).isEqualTo(0x0000_0040_ABCD_E001L);
        assertThat(entry.high()).isEqualTo(0x0000_0000_0012_3402L); // DID 0x1234 at 87:72, AW 2 at 66:64

        ContextEntry all = new ContextEntry(true, true, 2, 0x000F_FFFF_FFFF_F000L, 3, 0xFFFF);
        assertThat(all.low()).isEqualTo(0x000F_FFFF_FFFF_F00BL); // P | FPD | TT=10b
        assertThat(all.high()).isEqualTo(0x0000_0000_00FF_FF03L);
        assertThat(ContextEntry.decode(all.low(), all.high())).isEqualTo(all);
        assertThat(ContextEntry.decode(0x0000_0040_ABCD_E005L, 0x0000_0000_0000_0101L))
                .isEqualTo(new ContextEntry(true, false, 1, 0x0000_0040_ABCD_E000L, 1, 1));

        assertThat(ContextEntry.reservedBitsSet(entry.low(), entry.high())).isFalse();
        assertThat(ContextEntry.reservedBitsSet(entry.low() | 1L << 4, entry.high())).as("bit 4").isTrue();
        assertThat(ContextEntry.reservedBitsSet(entry.low() | 1L << 11, entry.high())).as("bit 11").isTrue();
        assertThat(ContextEntry.reservedBitsSet(entry.low(), entry.high() | 1L << 7)).as("bit 71").isTrue();
        assertThat(ContextEntry.reservedBitsSet(entry.low(), entry.high() | 1L << 24)).as("bit 88").isTrue();
        assertThat(ContextEntry.reservedBitsSet(entry.low(), entry.high() | 1L << 63)).as("bit 127").isTrue();
        assertThat(ContextEntry.reservedBitsSet(entry.low(), entry.high() | 0b1111L << 3))
                .as("AVAIL 70:67 is software's").isFalse();
        assertThat(ContextEntry.widthOf(1)).isEqualTo(39);
        assertThat(ContextEntry.widthOf(2)).isEqualTo(48);
        assertThat(ContextEntry.levelsOf(2)).isEqualTo(4);
    }

    @Test
    void secondLevelEntry() {
        assertThat(PageTableEntry.of(0x0000_0012_3456_7000L, true, true)).isEqualTo(0x0000_0012_3456_7003L);
        assertThat(PageTableEntry.of(0x0000_0012_3456_7000L, true, false)).isEqualTo(0x0000_0012_3456_7001L);
        assertThat(PageTableEntry.of(0x000F_FFFF_FFFF_F000L, false, true)).isEqualTo(0x000F_FFFF_FFFF_F002L);
        assertThat(PageTableEntry.present(0x1000L)).isFalse();
        assertThat(PageTableEntry.index(0x0000_7FFF_FFFF_F000L, 4)).isEqualTo(0xFF);
        assertThat(PageTableEntry.index(0x0000_0000_4020_3000L, 1)).isEqualTo(3);
        assertThat(PageTableEntry.index(0x0000_0000_4020_3000L, 2)).isEqualTo(1);
        assertThat(PageTableEntry.index(0x0000_0000_4020_3000L, 3)).isEqualTo(1);
        assertThat(PageTableEntry.reservedAddressBits(46)).isEqualTo(0x000F_C000_0000_0000L);
        assertThatThrownBy(() -> PageTableEntry.of(1L << 52, true, true)).hasMessageContaining("below 2^52");
    }

    // ---- queued-invalidation descriptors -------------------------------------------

    @Test
    void contextCacheInvalidateDescriptor() {
        // type 1, granularity 5:4, DID 31:16, SID 47:32, FM 49:48
        var device = QueuedDescriptor.ContextCacheInvalidate.of(3, 0x1234, 0x0180, 2);
        assertThat(device.low()).isEqualTo(0x0002_0180_1234_0031L);
        assertThat(device.high()).isZero();
        assertThat(QueuedDescriptor.ContextCacheInvalidate.of(1, 0, 0, 0).low()).isEqualTo(0x11L);
        assertThat(QueuedDescriptor.ContextCacheInvalidate.of(2, 0xFFFF, 0, 0).low()).isEqualTo(0xFFFF_0021L);
        assertThat(QueuedDescriptor.decode(device.low(), device.high())).isEqualTo(device);
        assertThat(device.reservedBitsSet()).isFalse();
        assertThat(QueuedDescriptor.decode(device.low() | 1L << 6, 0).reservedBitsSet()).as("bit 6").isTrue();
        assertThat(QueuedDescriptor.decode(device.low() | 1L << 50, 0).reservedBitsSet()).as("bit 50").isTrue();
        assertThat(QueuedDescriptor.decode(device.low(), 1).reservedBitsSet()).as("bit 64").isTrue();
    }

    @Test
    void iotlbInvalidateDescriptor() {
        // type 2, granularity 5:4, DW 6, DR 7, DID 31:16; ADDR 63:12, IH 6, AM 5:0
        var page = QueuedDescriptor.IotlbInvalidate.of(3, true, true, 0x00AB, 0x0000_0000_7654_3000L, true, 4);
        assertThat(page.low()).isEqualTo(0x0000_0000_00AB_00F2L);
        assertThat(page.high()).isEqualTo(0x0000_0000_7654_3044L);
        var domain = QueuedDescriptor.IotlbInvalidate.of(2, false, true, 5, 0, false, 0);
        assertThat(domain.low()).isEqualTo(0x0000_0000_0005_0062L);
        assertThat(domain.high()).isZero();
        var global = QueuedDescriptor.IotlbInvalidate.of(1, true, false, 0, 0, false, 0);
        assertThat(global.low()).isEqualTo(0x92L);
        assertThat(QueuedDescriptor.decode(page.low(), page.high())).isEqualTo(page);
        assertThat(page.reservedBitsSet()).isFalse();
        assertThat(QueuedDescriptor.decode(page.low() | 1L << 8, page.high()).reservedBitsSet()).as("bit 8").isTrue();
        assertThat(QueuedDescriptor.decode(page.low() | 1L << 32, page.high()).reservedBitsSet()).as("bit 32").isTrue();
        assertThat(QueuedDescriptor.decode(page.low(), page.high() | 1L << 7).reservedBitsSet()).as("bit 71").isTrue();
    }

    @Test
    void invalidationWaitDescriptor() {
        // type 5, IF 4, SW 5, FN 6, status data 63:32; status address 63:2
        var wait = QueuedDescriptor.InvalidationWait.of(true, true, true, 2, 0x0000_0040_0000_1008L);
        assertThat(wait.low()).isEqualTo(0x0000_0002_0000_0075L);
        assertThat(wait.high()).isEqualTo(0x0000_0040_0000_1008L);
        var statusOnly = QueuedDescriptor.InvalidationWait.of(false, true, false, 0xDEAD_BEEF, 0x2004L);
        assertThat(statusOnly.low()).isEqualTo(0xDEAD_BEEF_0000_0025L);
        assertThat(QueuedDescriptor.InvalidationWait.noOp().low()).isEqualTo(0x45L);
        assertThat(QueuedDescriptor.decode(wait.low(), wait.high())).isEqualTo(wait);
        assertThat(QueuedDescriptor.decode(wait.low() | 1L << 8, wait.high()).reservedBitsSet()).isTrue();
        assertThat(QueuedDescriptor.decode(wait.low(), wait.high() | 1).reservedBitsSet()).isTrue();
        assertThat(QueuedDescriptor.decode(0x4, 0)).isEqualTo(new QueuedDescriptor.Other(4, 4, 0));
    }

    // ---- CCMD, IOTLB and IVA registers ----------------------------------------------

    @Test
    void commandRegisters() {
        // CCMD: ICC 63, CIRG 62:61, CAIG 60:59, FM 33:32, SID 31:16, DID 15:0
        assertThat(Registers.ccmd(3, 0, 0x0180, 5)).isEqualTo(0xE000_0000_0180_0005L);
        assertThat(Registers.ccmd(1, 0, 0, 0)).isEqualTo(0xA000_0000_0000_0000L);
        assertThat(Registers.ccmd(2, 3, 0xFFFF, 0xFFFF)).isEqualTo(0xC000_0003_FFFF_FFFFL);
        assertThat(Registers.ccmdCaig(0x1800_0000_0000_0000L)).isEqualTo(3);
        assertThat(Registers.withCcmdCaig(0x4000_0000_0000_0000L, 2)).isEqualTo(0x5000_0000_0000_0000L);
        // IOTLB: IVT 63, IIRG 61:60, IAIG 58:57, DR 49, DW 48, DID 47:32
        assertThat(Registers.iotlbCommand(2, true, true, 0x1234)).isEqualTo(0xA003_1234_0000_0000L);
        assertThat(Registers.iotlbCommand(3, false, false, 1)).isEqualTo(0xB000_0001_0000_0000L);
        assertThat(Registers.iotlbCommand(1, false, true, 0)).isEqualTo(0x9001_0000_0000_0000L);
        assertThat(Registers.iotlbIaig(0x0600_0000_0000_0000L)).isEqualTo(3);
        // IVA: ADDR 63:12, IH 6, AM 5:0
        assertThat(Registers.iva(0x7654_3000L, true, 4)).isEqualTo(0x7654_3044L);
        assertThat(Registers.iva(0x7654_3000L, false, 18)).isEqualTo(0x7654_3012L);
        // fault record high quadword: F 127, T 126, FR 103:96, SID 79:64
        assertThat(Registers.frcdHigh(0x06, 0x0180, true)).isEqualTo(0xC000_0006_0000_0180L);
        assertThat(Registers.frcdHigh(0x05, 0x00A0, false)).isEqualTo(0x8000_0005_0000_00A0L);
    }

    // ---- what the unit writes into its memory ---------------------------------------

    @Test
    void theUnitsTablesInMemoryHaveTheSpecLayout() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        PhysicalMemory memory = unit.memory();
        long rootTable = unit.readRegister(Registers.RTADDR, 8);
        assertThat(rootTable & 0xFFF).isZero();
        assertThat(memory.read64(rootTable + 1 * 16)).as("bus 1 not present yet").isZero();

        unit.setContext(VF1, ctx(0xAB, GUEST_1)); // 01:10.0: bus 1, devfn 0x80
        long rootLow = memory.read64(rootTable + 1 * 16);
        assertThat(rootLow & 0xFFF).isEqualTo(1);
        assertThat(memory.read64(rootTable + 1 * 16 + 8)).isZero();
        long contextTable = rootLow & ~0xFFFL;
        long low = memory.read64(contextTable + 0x80 * 16);
        long high = memory.read64(contextTable + 0x80 * 16 + 8);
        long slptptr = low & ~0xFFFL;
        assertThat(low & 0xFFF).as("P=1, FPD=0, TT=00").isEqualTo(0x001);
        assertThat(high).as("DID 0xAB at 87:72, AW 2 (48-bit, 4-level: SAGAW 0b00100)").isEqualTo(0xAB02L);
        assertThat(unit.contextEntry(VF1)).isEqualTo(ContextEntry.translating(slptptr, 2, 0xAB));

        // a mapping at IOVA 0x4020_3000: level-4 index 0, level 3 index 1, level 2 index 1, level 1 index 3
        unit.map(GUEST_1, 0x4020_3000L, 0x0000_0012_3456_7000L, 1);
        long l4 = memory.read64(slptptr);
        assertThat(l4 & 0xFFF).as("non-leaf R|W").isEqualTo(3);
        long l3 = memory.read64((l4 & ~0xFFFL) + 1 * 8);
        long l2 = memory.read64((l3 & ~0xFFFL) + 1 * 8);
        long l1 = memory.read64((l2 & ~0xFFFL) + 3 * 8);
        assertThat(l1).isEqualTo(0x0000_0012_3456_7003L);

        // the same guest on a second device shares the table; another guest gets its own
        unit.setContext(USB, ctx(0xAB, GUEST_1));
        unit.setContext(ModelFixtures.VF2, ctx(0xAC, GUEST_2));
        assertThat(unit.contextEntry(USB).secondLevelPointer()).isEqualTo(slptptr);
        assertThat(unit.contextEntry(ModelFixtures.VF2).secondLevelPointer()).isNotEqualTo(slptptr);

        unit.clearContext(VF1);
        assertThat(memory.read64(contextTable + 0x80 * 16)).isZero();
        assertThat(memory.read64(contextTable + 0x80 * 16 + 8)).isZero();
        assertThat(unit.context(VF1)).isEmpty();
        assertThat(unit.context(USB)).contains(ctx(0xAB, GUEST_1));
    }

    @Test
    void aUnitWithThreeLevelTablesUsesAw1() {
        VtdUnit unit = ModelFixtures.unit(IVB_CAP, QI_ECAP);
        unit.setContext(VF1, ctx(7, GUEST_1));
        assertThat(unit.contextEntry(VF1).addressWidth()).isEqualTo(1);
        unit.map(GUEST_1, 0x4020_3000L, 0x5000, 1);
        assertThat(unit.translate(VF1, 0x4020_3abcL).hostAddress()).hasValue(0x5abcL);
    }

    @Test
    void addressWidthFollowsLinux() {
        // MGAW 39 with only 4-level tables: AW 2 (Linux's agaw for that client part)
        assertThat(VtdUnit.addressWidthFor(Capability.parse(CLIENT_CAP))).isEqualTo(2);
        assertThat(VtdUnit.addressWidthFor(Capability.parse(IVB_CAP))).isEqualTo(1);
        assertThat(VtdUnit.addressWidthFor(Capability.parse(ModelFixtures.SERVER_CAP))).isEqualTo(2);
        // SAGAW 3- and 4-level, MGAW 39: the largest supported within MGAW
        assertThat(VtdUnit.addressWidthFor(Capability.decode(0x0026_0602L))).isEqualTo(1);
        // SAGAW 3- and 4-level, MGAW 48: 4-level
        assertThat(VtdUnit.addressWidthFor(Capability.decode(0x002F_0602L))).isEqualTo(2);
        assertThat(VtdUnit.addressWidthFor(Capability.decode(0x002F_0002L))).isEqualTo(-1);
    }

    @Test
    void theQueueHoldsEveryDescriptorBitExactThenOneWait() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        PhysicalMemory memory = unit.memory();
        long iqa = unit.readRegister(Registers.IQA, 8);
        long queue = iqa & ~0xFFFL;
        assertThat(iqa & 7).as("QS 0: 256 descriptors").isZero();
        int first = (int) (unit.readRegister(Registers.IQT, 8) >>> 4);

        unit.invalidate(List.of(
                new Invalidation.Device(VF1, did(5)),
                new Invalidation.Domain(did(5)),
                new Invalidation.Pages(did(5), 0x40_0000L, 4),
                new Invalidation.Pages(did(5), 0, 19), // beyond MAMV 18: domain-selective
                new Invalidation.Global())).toCompletableFuture().join();

        long[] expected = {
            0x0000_0180_0005_0031L, 0, // context cache, device (3), DID 5, SID 0x0180, FM 0
            0x0000_0000_0005_00E2L, 0, // IOTLB, domain (2), DR, DW (CAP.DRD, DWD), DID 5
            0x0000_0000_0005_00F2L, 0x0000_0000_0040_0004L, // IOTLB, page (3), ADDR 0x400000, AM 4
            0x0000_0000_0005_00E2L, 0, // the order-19 range: domain
            0x11L, 0, // context cache, global
            0xD2L, 0, // IOTLB, global, DR, DW
        };
        for (int i = 0; i < expected.length / 2; i++) {
            long address = queue + (first + i) * 16L;
            assertThat(memory.read64(address)).as("descriptor %d low", i).isEqualTo(expected[2 * i]);
            assertThat(memory.read64(address + 8)).as("descriptor %d high", i).isEqualTo(expected[2 * i + 1]);
        }
        int waitIndex = first + expected.length / 2;
        long waitLow = memory.read64(queue + waitIndex * 16L);
        long statusAddress = memory.read64(queue + waitIndex * 16L + 8);
        assertThat(waitLow).as("wait: SW, FN, status data QI_DONE").isEqualTo(0x0000_0002_0000_0065L);
        assertThat(memory.read32(statusAddress)).as("status written, then freed by the driver")
                .isEqualTo(InvalidationQueue.QI_FREE);
        assertThat(unit.readRegister(Registers.IQT, 8)).isEqualTo((waitIndex + 1L) << 4);
        assertThat(unit.readRegister(Registers.IQH, 8)).isEqualTo((waitIndex + 1L) << 4);
        assertThat(memory.read64(queue + (waitIndex + 1) * 16L)).as("one wait per batch").isZero();
        assertThat(unit.invalidationCounts())
                .containsEntry("device", 1L).containsEntry("domain", 1L).containsEntry("pages", 2L)
                .containsEntry("global", 1L)
                .containsEntry("performed.context.device", 1L).containsEntry("performed.context.global", 1L)
                .containsEntry("performed.iotlb.domain", 2L).containsEntry("performed.iotlb.page", 1L)
                .containsEntry("performed.iotlb.global", 1L).containsEntry("performed.wait", 1L);
    }

    @Test
    void aRegisterBasedUnitWritesCcmdIvaAndIotlb() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP);
        assertThat(unit.invalidationMechanism()).isEqualTo("register");
        assertThat(unit.readRegister(Registers.IQA, 8)).isZero();
        unit.invalidate(List.of(new Invalidation.Device(VF1, did(5)))).toCompletableFuture().join();
        // ICC cleared, CAIG = 3 (device) as performed, the rest as written
        assertThat(unit.readRegister(Registers.CCMD, 8)).isEqualTo(0x7800_0000_0180_0005L);
        unit.invalidate(List.of(new Invalidation.Pages(did(5), 0x40_0000L, 4))).toCompletableFuture().join();
        assertThat(unit.readRegister(0x500, 8)).as("IVA").isEqualTo(0x0040_0004L);
        // IVT cleared, IIRG 3, IAIG 3, DR, DW, DID 5
        assertThat(unit.readRegister(0x508, 8)).isEqualTo(0x3603_0005_0000_0000L);
        unit.invalidate(List.of(new Invalidation.Domain(did(9)))).toCompletableFuture().join();
        assertThat(unit.readRegister(0x508, 8)).isEqualTo(0x2403_0009_0000_0000L);
        assertThat(unit.invalidationCounts()).containsEntry("performed.wait", 0L)
                .containsEntry("performed.context.device", 1L).containsEntry("performed.iotlb.page", 1L)
                .containsEntry("performed.iotlb.domain", 1L);
    }
}
