package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.PciAddress;

/** Small sysfs trees built in a temporary folder. */
class SysfsReaderTest {

    @TempDir
    Path dir;
    Path sys;

    @BeforeEach
    void root() {
        sys = dir.resolve("sys");
    }

    static PciAddress pci(String bdf) {
        return PciAddress.parse(bdf);
    }

    /** class/iommu/NAME/intel-iommu/{address,cap,ecap,version} and devices/ entries as symbolic links. */
    Path unit(String name, String address, String cap, String ecap, String... devices) throws IOException {
        Path unit = sys.resolve("class/iommu").resolve(name);
        Path regs = Files.createDirectories(unit.resolve("intel-iommu"));
        Files.writeString(regs.resolve("address"), address + "\n");
        Files.writeString(regs.resolve("cap"), cap + "\n");
        Files.writeString(regs.resolve("ecap"), ecap + "\n");
        Files.writeString(regs.resolve("version"), "1:0\n");
        Path list = Files.createDirectories(unit.resolve("devices"));
        for (String device : devices) {
            Files.createSymbolicLink(list.resolve(device), Path.of("../../../../devices/pci0000:00/" + device));
        }
        return unit;
    }

    Path device(String bdf, String... files) throws IOException {
        Path device = Files.createDirectories(sys.resolve("bus/pci/devices").resolve(bdf));
        for (int i = 0; i + 1 < files.length; i += 2) {
            Files.writeString(device.resolve(files[i]), files[i + 1] + "\n");
        }
        return device;
    }

    Path pf(String bdf, int total, int num, int offset, int stride) throws IOException {
        return device(bdf, "sriov_totalvfs", "" + total, "sriov_numvfs", "" + num, "sriov_offset", "" + offset,
                "sriov_stride", "" + stride);
    }

    Path bridge(String bdf, int secondary, int subordinate) throws IOException {
        return device(bdf, "secondary_bus_number", "" + secondary, "subordinate_bus_number", "" + subordinate,
                "class", "0x060400");
    }

    /** A client machine without a DMAR: two units, a NIC with VFs behind a root port. */
    void client() throws IOException {
        unit("dmar0", "fed90000", "c0000020e60262", "f0101a", "0000:00:02.0");
        unit("dmar1", "fed91000", "d2008c40660462", "f050da", "0000:00:14.0", "0000:00:1c.0", "0000:01:00.0",
                "0000:01:10.0", "0000:01:10.1");
        device("0000:00:02.0", "class", "0x030000");
        device("0000:00:14.0");
        bridge("0000:00:1c.0", 1, 1);
        pf("0000:01:00.0", 8, 2, 128, 1);
        device("0000:01:10.0").resolve("physfn");
        Files.createSymbolicLink(sys.resolve("bus/pci/devices/0000:01:10.0/physfn"), Path.of("../0000:01:00.0"));
        device("0000:01:10.1");
        Files.createSymbolicLink(sys.resolve("bus/pci/devices/0000:01:10.1/physfn"), Path.of("../0000:01:00.0"));
    }

    @Test
    void readsUnitsDevicesAndVfsWithoutADmar() throws IOException {
        client();
        assertThat(SysfsReader.looksLikeSysfs(sys)).isTrue();
        Platform platform = SysfsReader.read(sys);
        assertThat(platform.format()).isEqualTo(Platform.SYSFS);
        assertThat(platform.source()).isEqualTo(sys.toString());
        assertThat(platform.warnings()).isEmpty();
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1");
        assertThat(platform.units()).extracting(UnitDefinition::registerBase).containsExactly(0xfed90000L, 0xfed91000L);
        assertThat(platform.units().get(0).cap().raw()).isEqualTo(0xc0000020e60262L);
        assertThat(platform.units().get(1).ecap().raw()).isEqualTo(0xf050daL);
        assertThat(platform.units()).noneMatch(UnitDefinition::includePciAll);
        // the bridge is not a scope; the VFs are
        assertThat(platform.units().get(1).scopes()).extracting(DeviceScope::address).containsExactly(
                pci("0000:00:14.0"), pci("0000:01:00.0"), pci("0000:01:10.0"), pci("0000:01:10.1"));
        assertThat(platform.inventory().virtualFunctions()).containsExactly(pci("0000:01:10.0"), pci("0000:01:10.1"));
        assertThat(platform.inventory().bridges()).containsExactly(new PciInventory.Bridge(pci("0000:00:1c.0"), 1, 1));

        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        registry.admit(platform, "sysfs", false, false);
        assertThat(registry.unit("dmar0").orElseThrow().devices()).containsExactly(pci("0000:00:02.0"));
        assertThat(registry.unit("dmar1").orElseThrow().devices()).hasSize(4);
    }

    @Test
    void ordersUnitsByTheirNumberNotTheirName() throws IOException {
        for (int n : new int[] {10, 2, 1}) {
            unit("dmar" + n, String.format("fed%02x000", 0x90 + n), "d2008c40660462", "f050da");
        }
        assertThat(SysfsReader.read(sys).units()).extracting(UnitDefinition::id)
                .containsExactly("dmar1", "dmar2", "dmar10");
    }

    @Test
    void withTheDmarTheUnitsAreItsDrhdsAndSysfsGivesTheirRegisters() throws IOException {
        Files.createDirectories(sys.resolve("firmware/acpi/tables"));
        Files.write(sys.resolve(SysfsReader.DMAR_TABLE), DmarBytes.resource("server-two-segments.dat"));
        unit("dmar0", "fed90000", "c0000020e60262", "f0101a", "0000:00:02.0");
        unit("dmar1", "0xfed91000", "8d2078c106f0466", "f020df");
        unit("dmar7", "fed97000", "d2008c40660462", "f050da");
        device("0000:00:02.0");
        device("0000:00:14.0");
        bridge("0000:00:1c.0", 2, 2);
        device("0000:02:00.0");
        Platform platform = SysfsReader.read(sys);
        assertThat(platform.units()).extracting(UnitDefinition::registerBase)
                .containsExactly(0xfed90000L, 0xfed91000L, 0xfed92000L, 0xfed93000L);
        assertThat(platform.units().get(0).cap().raw()).isEqualTo(0xc0000020e60262L);
        assertThat(platform.units().get(1).domainIdCount()).isEqualTo(65536);
        assertThat(platform.units().get(2).cap().raw()).isEqualTo(DmarUnits.DEFAULT_CAP);
        assertThat(platform.units().get(1).includePciAll()).isTrue();
        // the two-hop scope walked through the sysfs bridge's secondary bus
        assertThat(platform.units().get(0).scopes()).contains(DeviceScope.endpoint(pci("0000:02:00.0")));
        assertThat(platform.hasReservedMemory(pci("0000:00:14.0"))).isTrue();
        assertThat(platform.warnings()).contains(
                sys + ": DRHD #2 at offset 0x84: register base 0xfed92000 has no class/iommu/dmar*/intel-iommu/address:"
                        + " the unit gets the default CAP d2008c40660462 and ECAP f050da",
                sys.resolve("class/iommu/dmar7/intel-iommu/address") + ": address 0xfed97000 is no DRHD's register"
                        + " base in " + sys.resolve(SysfsReader.DMAR_TABLE) + ": expected one; unit ignored");
    }

    @Test
    void aMalformedDmarInTheTreeNamesItsFile() throws IOException {
        Files.createDirectories(sys.resolve("firmware/acpi/tables"));
        Files.write(sys.resolve(SysfsReader.DMAR_TABLE), new byte[] {'D', 'M', 'A', 'R', 1});
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(sys.resolve(SysfsReader.DMAR_TABLE)
                + ": header: truncated: the file has 5 bytes: expected at least the 36-byte ACPI header");
    }

    @Test
    void aBadCapNamesTheFile() throws IOException {
        unit("dmar0", "fed90000", "d2008c4066046z", "f050da");
        assertThatThrownBy(() -> SysfsReader.read(sys)).isInstanceOf(PlatformFormatException.class)
                .hasMessage(sys.resolve("class/iommu/dmar0/intel-iommu/cap") + ": bad CAP 'd2008c4066046z': expected a"
                        + " hexadecimal number of 1 to 16 digits, 0x optional");
    }

    @Test
    void aMissingEcapNamesTheFile() throws IOException {
        Path unit = unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Files.delete(unit.resolve("intel-iommu/ecap"));
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("intel-iommu/ecap")
                + ": missing: expected a file holding a hexadecimal ECAP value such as f050da");
    }

    @Test
    void anEmptyAddressNamesTheFile() throws IOException {
        Path unit = unit("dmar0", "", "d2008c40660462", "f050da");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("intel-iommu/address")
                + ": empty: expected a hexadecimal register base such as fed90000");
    }

    @Test
    void aBadVersionNamesTheFile() throws IOException {
        Path unit = unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Files.writeString(unit.resolve("intel-iommu/version"), "one\n");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("intel-iommu/version")
                + ": 'one': expected MAJOR:MINOR such as 1:0");
    }

    @Test
    void aFileOfSeveralLinesNamesTheFile() throws IOException {
        Path unit = unit("dmar0", "fed90000", "d2008c40660462\nf050da", "f050da");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("intel-iommu/cap")
                + ": not one line of printable text: expected a hexadecimal CAP value such as d2008c40660462");
    }

    @Test
    void anUnalignedAddressNamesTheFile() throws IOException {
        Path unit = unit("dmar0", "fed90010", "d2008c40660462", "f050da");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("intel-iommu/address")
                + ": 0xfed90010: expected a nonzero 4 KiB-aligned register base");
    }

    @Test
    void aPfWithoutItsOffsetNamesTheMissingFile() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path pf = pf("0000:01:00.0", 8, 2, 128, 1);
        Files.delete(pf.resolve("sriov_offset"));
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(pf.resolve("sriov_offset")
                + ": missing: expected it beside sriov_totalvfs");
    }

    @Test
    void moreVfsThanTheTotalNamesThePf() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path pf = pf("0000:01:00.0", 8, 9, 128, 1);
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(pf + ": PF 0000:01:00.0: numvfs 9 out of range:"
                + " expected 0..totalvfs (8)");
    }

    @Test
    void aNonDecimalCountNamesTheFile() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path pf = pf("0000:01:00.0", 8, 2, 128, 1);
        Files.writeString(pf.resolve("sriov_stride"), "one\n");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(pf.resolve("sriov_stride") + ": bad sriov_stride"
                + " 'one': expected a decimal number (or 0x-prefixed hexadecimal) 0..65535");
    }

    @Test
    void anEntryThatIsNoPciAddressIsNamed() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path bad = device("00:02.0");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(bad + ": not a PCI address: expected an entry named"
                + " SSSS:BB:DD.F, as Linux names PCI devices (e.g. 0000:00:02.0)");
    }

    @Test
    void aBridgeWithoutItsSubordinateBusNamesTheFile() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path bridge = device("0000:00:1c.0", "secondary_bus_number", "1");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(bridge.resolve("subordinate_bus_number")
                + ": missing: expected it beside secondary_bus_number");
    }

    @Test
    void aUnitWithDevicesOnTwoSegmentsIsRefused() throws IOException {
        Path unit = unit("dmar0", "fed90000", "d2008c40660462", "f050da", "0000:00:02.0", "0001:00:02.0");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(unit.resolve("devices") + ": devices on segments"
                + " [0, 1]: expected the devices of one unit on one PCI segment");
    }

    @Test
    void twoUnitsWithOneAddressAreRefused() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path second = unit("dmar1", "fed90000", "d2008c40660462", "f050da");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(second + ": unit dmar1 has the register base"
                + " 0xfed90000 of unit dmar0: expected distinct register bases (" + sys.resolve("class/iommu/dmar0")
                + ")");
    }

    @Test
    void strayVfsAndUnconfiguredBridgesAreWarnings() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        Path vf = device("0000:05:10.0");
        Files.createSymbolicLink(vf.resolve("physfn"), Path.of("../0000:05:00.0"));
        Path bridge = bridge("0000:00:1d.0", 0, 0);
        Path noBuses = device("0000:00:1e.0", "class", "0x060400");
        Platform platform = SysfsReader.read(sys);
        assertThat(platform.warnings()).containsExactly(
                bridge + ": bridge with bus numbers 0-0 (not configured): expected a secondary bus above its own;"
                        + " ignored",
                noBuses + ": a PCI bridge (class 0x0604) without secondary_bus_number: expected its bus numbers;"
                        + " ignored, scopes through it stay unresolved",
                vf + ": a VF (it has physfn) that no PF's sriov_numvfs, sriov_offset and sriov_stride compute:"
                        + " expected one of its PF's enabled VFs; ignored");
        assertThat(platform.inventory().functions()).isEmpty();
    }

    @Test
    void aTreeWithoutUnitsIsRefused() throws IOException {
        device("0000:00:02.0");
        assertThatThrownBy(() -> SysfsReader.read(sys)).hasMessage(sys + ": no VT-d unit: expected"
                + " class/iommu/dmar*/intel-iommu or firmware/acpi/tables/DMAR");
    }

    @Test
    void aFolderOfAnotherShapeIsNotSysfs() throws IOException {
        Files.createDirectories(dir.resolve("etc"));
        assertThat(SysfsReader.looksLikeSysfs(dir)).isFalse();
        assertThat(SysfsReader.looksLikeSysfs(dir.resolve("nowhere"))).isFalse();
        assertThatThrownBy(() -> SysfsReader.read(dir)).hasMessage(dir + ": no class/iommu, bus/pci/devices or"
                + " firmware/acpi/tables/DMAR: expected a sysfs-shaped directory (/sys of a VT-d host)");
        assertThat(List.of(dir)).isNotEmpty();
    }
    /**
     * A bridge's config space: header type 1, and when {@code pcieType} is not
     * negative a capability list (a power-management capability at 0x40, then
     * the PCI Express capability at 0x50 with that device/port type).
     */
    static byte[] bridgeConfig(int length, int pcieType) {
        byte[] c = new byte[length];
        c[0x0e] = (byte) 0x81; // multi-function bit set: only bits 6:0 are the header type
        if (pcieType >= 0) {
            c[0x06] = 0x10; // Status: Capabilities List
            c[0x34] = 0x43; // low two bits ignored, as __pci_find_next_cap_ttl clears them
            if (length > 0x50) {
                c[0x40] = 0x01;
                c[0x41] = 0x50;
                c[0x50] = 0x10;
                c[0x52] = (byte) (pcieType << 4 | 0x2);
            }
        }
        return c;
    }

    @Test
    void anEndpointsOrPfsAtsCapabilityComesFromItsConfigAndTheVfsInheritIt() throws IOException {
        client();
        Files.write(sys.resolve("bus/pci/devices/0000:01:00.0/config"), PciConfigSpaceAtsTest.config(4, 0x0f, 0x100));
        Files.write(sys.resolve("bus/pci/devices/0000:00:14.0/config"), new byte[64]); // a copy made without root
        PciInventory inv = SysfsReader.read(sys).inventory();
        assertThat(inv.hasAts(pci("0000:01:00.0"))).isTrue();
        assertThat(inv.hasAts(pci("0000:01:10.1"))).isTrue();
        assertThat(inv.atsQueueDepth(pci("0000:01:10.1"))).isEqualTo(4);
        assertThat(inv.hasAts(pci("0000:00:14.0"))).isFalse();
        assertThat(inv.hasAts(pci("0000:00:02.0"))).as("no config file").isFalse();
    }

    @Test
    void bridgeKindsComeFromConfigSpaceAsPciForEachDmaAliasTellsThemApart() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da", "0000:00:14.0");
        device("0000:00:14.0");
        Files.write(bridge("0000:00:1c.0", 1, 2).resolve("config"), bridgeConfig(256, 0x4)); // root port
        Files.write(bridge("0000:01:00.0", 2, 2).resolve("config"), bridgeConfig(256, 0x7)); // PCI_EXP_TYPE_PCI_BRIDGE
        Files.write(bridge("0000:00:1e.0", 3, 3).resolve("config"), bridgeConfig(256, -1)); // no PCIe capability
        Files.write(bridge("0000:00:1d.0", 4, 4).resolve("config"), bridgeConfig(256, 0x8)); // PCI_EXP_TYPE_PCIE_BRIDGE
        Files.write(bridge("0000:00:1b.0", 5, 5).resolve("config"), bridgeConfig(256, 0x6)); // downstream port
        bridge("0000:00:1a.0", 6, 6); // no config file
        Files.write(bridge("0000:00:19.0", 7, 7).resolve("config"), bridgeConfig(64, 0x7)); // a non-root copy

        Platform platform = SysfsReader.read(sys);
        PciInventory pci = platform.inventory();
        assertThat(pci.bridge(PciAddress.parse("0000:00:1c.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(pci.bridge(PciAddress.parse("0000:01:00.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_TO_PCI);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1e.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCI);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1d.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCI);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1b.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1a.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(pci.bridge(PciAddress.parse("0000:00:19.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(platform.warnings()).containsExactly(sys.resolve("bus/pci/devices/0000:00:19.0/config")
                + ": 64 bytes end inside the capability list (sysfs shows only the 64-byte header to a reader that"
                + " is not root): expected the whole configuration space; taken as a PCIe port, which aliases"
                + " nothing");
    }

    @Test
    void refusesABridgeConfigThatIsNoBridgeHeader() throws IOException {
        unit("dmar0", "fed90000", "d2008c40660462", "f050da");
        byte[] endpointHeader = bridgeConfig(256, 0x4);
        endpointHeader[0x0e] = 0;
        Path config = bridge("0000:00:1c.0", 1, 1).resolve("config");
        Files.write(config, endpointHeader);
        assertThatThrownBy(() -> SysfsReader.read(sys))
                .isInstanceOf(PlatformFormatException.class)
                .hasMessage(config + ": header type 0: expected 1, a PCI-to-PCI bridge (it has secondary_bus_number)");
        Files.write(config, new byte[10]);
        assertThatThrownBy(() -> SysfsReader.read(sys))
                .isInstanceOf(PlatformFormatException.class)
                .hasMessage(config + ": 10 bytes: expected at least the 64-byte header of PCI configuration space");
    }
}
