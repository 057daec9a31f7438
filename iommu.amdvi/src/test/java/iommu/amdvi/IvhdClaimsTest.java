package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * Which IVHD translates an id, as Linux's init_iommu_all / init_iommu_one /
 * init_iommu_from_acpi (set_iommu_for_device, now amd_iommu_set_rlookup_table)
 * fill the rlookup table: an IOMMU never translates its own function ("The
 * IVRS table tells us so, but this is a lie!"), and of two IVHDs naming the
 * same ids the last in table order keeps them.
 */
class IvhdClaimsTest {

    static final String HEADER = """
            [0004] Signature : "IVRS"
            [0004] Table Length : 00000000
            [0001] Revision : 02
            [0001] Checksum : 00
            [0006] Oem ID : "IOMMU "
            [0008] Oem Table ID : "TWOIVHD "
            [0004] Oem Revision : 00000001
            [0004] Asl Compiler ID : "INTL"
            [0004] Asl Compiler Revision : 20200925
            [0004] Virtualization Info : 00203040
            [0008] Reserved : 0000000000000000
            """;

    /** A type 10h IVHD header. */
    static String ivhd(int iommu, long base) {
        return String.format("""
                [0001] Subtable Type : 10
                [0001] Flags : B0
                [0002] Length : 0000
                [0002] DeviceId : %04X
                [0002] Capability Offset : 0040
                [0008] Base Address : %016X
                [0002] PCI Segment Group : 0000
                [0002] Virtualization Info : 0000
                [0004] Feature Reporting : 80000060
                """, iommu, base);
    }

    static String entry(int type, int device) {
        return String.format("""
                [0001] Entry Type : %02X
                [0002] Device ID : %04X
                [0001] Data Setting : 00
                """, type, device);
    }

    static String range(int first, int last) {
        return entry(0x03, first) + entry(0x04, last);
    }

    /**
     * Two IOMMUs on one segment, as multi-IOMMU Threadripper firmware writes
     * them: A (00:00.2) names 00:00.0..00:1f.7 and 01:00.0; B (00:01.2),
     * later in the table, names 00:10.0..00:1f.7 again and 02:00.0.
     */
    static byte[] twoIvhdsNamingTheSameIds() {
        return IvrsDsl.compile(HEADER + ivhd(0x0002, 0xFD20_0000L) + range(0x0000, 0x00FF) + entry(0x02, 0x0100)
                + ivhd(0x000A, 0xFD30_0000L) + range(0x0080, 0x00FF) + entry(0x02, 0x0200));
    }

    static PciAddress at(int id) {
        return PciAddress.ofRoutingId(0, id);
    }

    @Test
    void theLaterIvhdKeepsTheIdsBothNameSoNoIdIsTied() {
        IvrsPlatform p = IvrsPlatform.parse("t.aml", twoIvhdsNamingTheSameIds());
        UnitDefinition a = p.units().get(0);
        UnitDefinition b = p.units().get(1);
        assertThat(a.scopeOf(at(0x0080))).isEqualTo(ScopeMatch.NONE);
        assertThat(b.scopeOf(at(0x0080))).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(a.scopeOf(at(0x007F))).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(b.scopeOf(at(0x007F))).isEqualTo(ScopeMatch.NONE);
        // 00:00.0..00:0f.7 less the two IOMMU functions, and 01:00.0; B: 00:10.0..00:1f.7 and 02:00.0
        assertThat(a.namedCount()).isEqualTo(128 - 2 + 1);
        assertThat(b.namedCount()).isEqualTo(128 + 1);
        assertThat(p.warnings()).containsExactly("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU 0000:00:00.2, base"
                + " 0xfd200000) and IVHD type 10h at byte 0x54 (IOMMU 0000:00:01.2, base 0xfd300000) both name 128"
                + " device ids (00:10.0..00:1f.7): the later one translates them, as Linux's init_iommu_from_acpi"
                + " overwrites its rlookup table IVHD by IVHD");
        // whatever the registration order, every id has exactly one claimant
        for (List<UnitDefinition> order : List.of(p.units(), List.of(b, a))) {
            List<AmdViUnit> units = new UnitRegistry(UnitRegistry.Publisher.NONE).addAll(order, "t");
            AmdViUnit unitB = units.stream().filter(u -> u.registerBase() == 0xFD30_0000L).findFirst().orElseThrow();
            AmdViUnit unitA = units.stream().filter(u -> u != unitB).findFirst().orElseThrow();
            assertThat(unitB.devices()).contains(at(0x0080), at(0x00FF), at(0x0200)).hasSize(129);
            assertThat(unitA.devices()).doesNotContain(at(0x0080)).contains(at(0x0000), at(0x0100)).hasSize(127);
        }
    }

    @Test
    void anIommuDoesNotTranslateItsOwnFunction() {
        IvrsPlatform p = IvrsPlatform.parse("t.aml", twoIvhdsNamingTheSameIds());
        List<AmdViUnit> units = new UnitRegistry(UnitRegistry.Publisher.NONE).addAll(p.units(), "t");
        for (AmdViUnit u : units) {
            for (int iommu : List.of(0x0002, 0x000A)) {
                assertThat(u.scopeOf(at(iommu))).isEqualTo(ScopeMatch.NONE);
                assertThat(u.devices()).doesNotContain(at(iommu));
            }
        }
        assertThatThrownBy(() -> units.get(0).setContext(at(0x0002), IsolationTest.ctx(1, IsolationTest.G1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit ivhd0 does not translate 0000:00:00.2: its IVHD names no such device, expected one"
                        + " of the devices it claims");
        // the device table still holds every id the IVHD names (Linux sizes it from them)
        assertThat(units.get(0).describe()).containsEntry("DevTabSize", "4 pages, 512 entries");
    }

    @Test
    void theIommuFunctionIsLeftOutOfAnAllEntryToo() {
        byte[] b = IvrsDsl.compile(HEADER + ivhd(0x0002, 0xFD20_0000L) + entry(0x01, 0x0000));
        UnitDefinition u = IvrsPlatform.parse("t.aml", b).units().get(0);
        assertThat(u.includesAll()).isTrue();
        assertThat(u.scopeOf(at(0x0002))).isEqualTo(ScopeMatch.NONE);
        assertThat(u.scopeOf(at(0x0001))).isEqualTo(ScopeMatch.SEGMENT);
    }
}
