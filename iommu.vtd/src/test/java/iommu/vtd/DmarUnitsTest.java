package iommu.vtd;

import static iommu.vtd.DmarBytes.appended;
import static iommu.vtd.DmarBytes.bytes;
import static iommu.vtd.DmarBytes.resource;
import static iommu.vtd.DmarBytes.with;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * A DMAR's units over a PCI topology: scope paths walked through the
 * bridges' secondary buses, the registers a DMAR lacks, RMRRs.
 */
class DmarUnitsTest {

    static final byte[] SERVER = resource("server-two-segments.dat");

    static PciAddress pci(String bdf) {
        return PciAddress.parse(bdf);
    }

    /** server-two-segments.txt: the DMAR and its topology. */
    static Platform server() throws IOException {
        return PlatformFileParser.parse(DmarBytes.DMAR_SOURCES.resolve("server-two-segments.txt"));
    }

    static UnitRegistry registry(Platform platform) {
        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        registry.admit(platform, "test", false, false);
        return registry;
    }

    @Test
    void walksMultiHopPathsThroughTheBridgesSecondaryBuses() throws IOException {
        Platform platform = server();
        assertThat(platform.warnings()).isEmpty();
        assertThat(platform.format()).isEqualTo(Platform.PLATFORM_FILE);
        UnitDefinition gfx = platform.units().get(0);
        assertThat(gfx.scopes()).containsExactly(
                DeviceScope.endpoint(pci("0000:00:02.0")),
                DeviceScope.endpoint(pci("0000:02:00.0")), // 00:1c.0 -> bus 02, device 00.0
                DeviceScope.bridge(pci("0000:03:00.0"), 4, 6)); // 00:1d.0 -> bus 03, the switch's upstream port
        assertThat(gfx.scopeOf(pci("0000:05:00.0"))).isEqualTo(ScopeMatch.BRIDGE);
        assertThat(gfx.scopeOf(pci("0000:07:00.0"))).isEqualTo(ScopeMatch.NONE);
    }

    @Test
    void eachDeviceGoesToTheUnitWithTheBestClaimOnEachSegment() throws IOException {
        UnitRegistry registry = registry(server());
        Map<String, List<PciAddress>> devices = registry.units().stream()
                .collect(Collectors.toMap(VtdUnit::id, VtdUnit::devices));
        assertThat(devices.get("dmar0")).containsExactly(pci("0000:00:02.0"), pci("0000:02:00.0"), pci("0000:05:00.0"));
        assertThat(devices.get("dmar1")).containsExactly(pci("0000:00:14.0"), pci("0000:00:15.0"), pci("0000:07:00.0"));
        assertThat(devices.get("dmar2")).containsExactly(pci("0001:41:00.0"), pci("0001:41:10.0"),
                pci("0001:41:10.1"), pci("0001:41:10.2"), pci("0001:41:10.3"));
        assertThat(devices.get("dmar3")).containsExactly(pci("0001:00:01.0"));
        assertThat(registry.units()).extracting(VtdUnit::includePciAll).containsExactly(false, true, false, true);
        assertThat(registry.units()).extracting(VtdUnit::segment).containsExactly(0, 0, 1, 1);
    }

    @Test
    void drhdLinesGiveRegistersAndTheOthersGetTheDocumentedDefaults() throws IOException {
        List<UnitDefinition> units = server().units();
        assertThat(units.get(0).cap().raw()).isEqualTo(0xc0000020e60262L);
        assertThat(units.get(0).ecap().raw()).isEqualTo(0xf0101aL);
        assertThat(units.get(2).domainIdCount()).isEqualTo(65536);
        for (UnitDefinition unit : List.of(units.get(1), units.get(3))) {
            assertThat(unit.cap().raw()).isEqualTo(DmarUnits.DEFAULT_CAP);
            assertThat(unit.ecap().raw()).isEqualTo(DmarUnits.DEFAULT_ECAP);
        }
    }

    /** The defaults: a real CAP/ECAP pair with ND=2, CM=0, QI=1. */
    @Test
    void theDefaultRegistersAreNd2WithoutCachingModeWithQueuedInvalidation() {
        Capability cap = DmarUnits.UnitRegisters.DEFAULT.cap();
        ExtendedCapability ecap = DmarUnits.UnitRegisters.DEFAULT.ecap();
        assertThat(cap.nd()).isEqualTo(2);
        assertThat(cap.domainIdCount()).isEqualTo(256);
        assertThat(cap.cachingMode()).isFalse();
        assertThat(ecap.queuedInvalidation()).isTrue();
        assertThat(cap.mgaw()).isEqualTo(39);
        assertThat(cap.sagaw()).isEqualTo(0b00100);
        assertThat(cap.pageSelective()).isTrue();
        assertThat(cap.maxAddressMaskValue()).isEqualTo(18);
        assertThat(ecap.iotlbRegisterOffset()).isEqualTo(0x500);
    }

    @Test
    void rmrrDevicesHaveReservedMemoryAndOthersNot() throws IOException {
        Platform platform = server();
        assertThat(platform.reserved()).hasSize(2);
        assertThat(platform.reserved().get(0).scopes()).containsExactly(
                DeviceScope.endpoint(pci("0000:00:14.0")), DeviceScope.endpoint(pci("0000:02:00.0")));
        assertThat(platform.reserved().get(0).origin()).endsWith("server-two-segments.dat: RMRR #0 at offset 0xac");
        UnitRegistry registry = registry(platform);
        VtdUnit dmar1 = registry.unit("dmar1").orElseThrow();
        VtdUnit dmar0 = registry.unit("dmar0").orElseThrow();
        VtdUnit dmar2 = registry.unit("dmar2").orElseThrow();
        assertThat(dmar1.hasReservedMemory(pci("0000:00:14.0"))).isTrue();
        assertThat(dmar0.hasReservedMemory(pci("0000:02:00.0"))).isTrue(); // named through the multi-hop path
        assertThat(dmar0.hasReservedMemory(pci("0000:00:02.0"))).isFalse();
        assertThat(dmar0.hasReservedMemory(pci("0000:05:00.0"))).isFalse();
        assertThat(dmar1.hasReservedMemory(pci("0000:00:15.0"))).isFalse();
        // as reserved regions (Linux intel_iommu_get_resv_regions): the RMRR, then the interrupt window
        ReservedRegion rmrr = platform.reserved().get(0);
        assertThat(dmar1.reservedRegions(pci("0000:00:14.0"))).containsExactly(
                new iommu.api.spi.IovaRegion(rmrr.base(), rmrr.limit(), iommu.api.spi.IovaRegion.Type.DIRECT),
                iommu.api.spi.IovaRegion.INTERRUPT_WINDOW);
        assertThat(dmar1.reservedRegions(pci("0000:00:15.0"))).containsExactly(iommu.api.spi.IovaRegion.INTERRUPT_WINDOW);
        // RMRR #1 names the root port 0001:40:00.0: everything behind it
        assertThat(dmar2.hasReservedMemory(pci("0001:41:00.0"))).isTrue();
        assertThat(dmar2.hasReservedMemory(pci("0001:41:10.3"))).isTrue();
        assertThat(dmar2.hasReservedMemory(pci("0000:41:00.0"))).isFalse();
    }

    @Test
    void aDmarAloneHasDefaultRegistersAndResolvesOnlySingleHopEndpoints() {
        DmarTable table = DmarParser.parse("t.dat", SERVER);
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        assertThat(platform.format()).isEqualTo(Platform.ACPI_DMAR);
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1", "dmar2", "dmar3");
        assertThat(platform.units()).allSatisfy(u -> {
            assertThat(u.cap().raw()).isEqualTo(DmarUnits.DEFAULT_CAP);
            assertThat(u.ecap().raw()).isEqualTo(DmarUnits.DEFAULT_ECAP);
        });
        assertThat(platform.units().get(0).scopes()).containsExactly(DeviceScope.endpoint(pci("0000:00:02.0")));
        assertThat(platform.units().get(2).scopes()).isEmpty();
        assertThat(platform.inventory().devices()).isEmpty();
        // 00:[1c.0/00.0] twice (DRHD #0, RMRR #0), 00:[1d.0/00.0], 40:[00.0] twice (DRHD #2, RMRR #1)
        assertThat(platform.warnings()).containsExactly("t.dat: no PCI topology known: 5 device scopes naming a bridge"
                + " or a path through bridges not resolved; they claim no device until a platform file or sysfs gives"
                + " the bridges' bus numbers");
        assertThat(platform.hasReservedMemory(pci("0000:00:14.0"))).isTrue();
    }

    @Test
    void aPathThroughAFunctionThatIsNoBridgeOfAKnownTopologyIsAWarning() {
        PciInventory topology = PciInventory.builder()
                .endpoint(pci("0000:00:1c.0"), "test")
                .bridge(new PciInventory.Bridge(pci("0000:00:1d.0"), 3, 6), "test")
                .build();
        Platform platform = DmarUnits.platform(DmarParser.parse("t.dat", SERVER), topology);
        assertThat(platform.warnings()).contains(
                "t.dat: DRHD #0 at offset 0x30: device scope endpoint 00:[1c.0/00.0] at offset 0x48: hop 1 of its"
                        + " path, 0000:00:1c.0, is not a bridge of the PCI topology: expected one, whose secondary"
                        + " bus the path continues on; it claims no device",
                "t.dat: DRHD #0 at offset 0x30: device scope bridge 00:[1d.0/00.0] at offset 0x52: bridge"
                        + " 0000:03:00.0 is not in the PCI topology: expected it there, with the secondary and"
                        + " subordinate buses the scope covers; it claims no device");
    }

    @Test
    void aScopeWhoseTypeDoesNotMatchTheFunctionIsAWarning() {
        PciInventory topology = PciInventory.builder()
                .bridge(new PciInventory.Bridge(pci("0000:00:02.0"), 1, 1), "test")
                .endpoint(pci("0001:40:00.0"), "test")
                .build();
        Platform platform = DmarUnits.platform(DmarParser.parse("t.dat", SERVER), topology);
        assertThat(platform.warnings()).contains(
                "t.dat: DRHD #0 at offset 0x30: device scope endpoint 00:[02.0] at offset 0x40: names bridge"
                        + " 0000:00:02.0 (test): expected an endpoint (the scope type does not match the function);"
                        + " it claims no device",
                "t.dat: DRHD #2 at offset 0x84: device scope bridge 40:[00.0] at offset 0x94: names endpoint"
                        + " 0001:40:00.0 (test): expected a bridge (the scope type does not match the function);"
                        + " it claims no device");
        assertThat(platform.units().get(0).scopes()).doesNotContain(DeviceScope.endpoint(pci("0000:00:02.0")));
    }

    @Test
    void conflictingDrhdsAreSkippedAndTheFirstClaimOnAnEndpointWins() {
        byte[] dup = bytes(0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0xa0, 0xd9, 0xfe, 0, 0, 0, 0, // DRHD fed9a000
                1, 8, 0, 0, 0, 0, 2, 0); // endpoint 00:02.0, which DRHD #0 names
        byte[] sameBase = bytes(0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0xd9, 0xfe, 0, 0, 0, 0); // DRHD fed90000 again
        byte[] secondAll = bytes(0, 0, 0x10, 0, 1, 0, 1, 0, 0, 0xb0, 0xd9, 0xfe, 0, 0, 0, 0); // INCLUDE_PCI_ALL seg 1
        byte[] rhsa = bytes(3, 0, 20, 0, 0, 0, 0, 0, 0, 0xc0, 0xd9, 0xfe, 0, 0, 0, 0, 1, 0, 0, 0); // unknown base
        byte[] bytes = appended(appended(appended(appended(SERVER, dup), sameBase), secondAll), rhsa);
        Platform platform = DmarUnits.platform(DmarParser.parse("t.dat", bytes), PciInventory.empty());
        assertThat(platform.units()).extracting(UnitDefinition::registerBase)
                .containsExactly(0xfed90000L, 0xfed91000L, 0xfed92000L, 0xfed93000L, 0xfed9a000L);
        assertThat(platform.units().get(4).scopes()).isEmpty();
        assertThat(platform.warnings()).contains(
                "t.dat: DRHD #4 at offset 0x14d: device scope endpoint 00:[02.0] at offset 0x15d names endpoint"
                        + " 0000:00:02.0, already named by DRHD #0 at offset 0x30: expected each endpoint in one DRHD;"
                        + " the earlier DRHD keeps it",
                "t.dat: DRHD #5 at offset 0x165: register base 0xfed90000 is that of DRHD #0 at offset 0x30: expected"
                        + " distinct register bases; the DRHD is skipped",
                "t.dat: DRHD #6 at offset 0x175: a second INCLUDE_PCI_ALL DRHD on segment 0001, after DRHD #3 at"
                        + " offset 0x9c: expected at most one per segment; the DRHD is skipped",
                "t.dat: RHSA #2 at offset 0x185: register base 0xfed9c000 (proximity domain 1) names no DRHD of the"
                        + " table: expected the base of one; ignored");
    }

    @Test
    void aNamespaceScopeNamingNoAnddIsAWarning() {
        // DRHD #1's namespace scope (at 0x7c) names enumeration id 1: make it 7
        Platform platform = DmarUnits.platform(DmarParser.parse("t.dat", with(SERVER, 0x80, 1, 7)),
                PciInventory.empty());
        assertThat(platform.warnings()).contains("t.dat: DRHD #1 at offset 0x5c: ACPI namespace device scope at offset"
                + " 0x7c has enumeration id 7: expected the device number of an ANDD; none declares it");
        assertThat(platform.units()).hasSize(4);
    }

    @Test
    void anUnalignedRmrrIsKeptWithAWarningAsLinuxDoes() {
        Platform platform = DmarUnits.platform(DmarParser.parse("t.dat", with(SERVER, 0xac + 8, 8, 0x7d000800L)),
                PciInventory.empty());
        assertThat(platform.warnings()).contains("t.dat: RMRR #0 at offset 0xac: region 0x7d000800-0x7d1fffff:"
                + " expected a 4 KiB-aligned base and limit + 1, base <= limit (a firmware bug; the region is kept, as"
                + " Linux does)");
        assertThat(platform.hasReservedMemory(pci("0000:00:14.0"))).isTrue();
    }
}
