package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;

/**
 * Which devices use their device-TLB, as Linux decides it
 * ({@code intel_iommu_probe_device}: {@code ecap_dev_iotlb_support},
 * {@code pci_ats_supported}, {@code dmar_ats_supported}): the firmware's
 * ATSRs and SATCs from a DMAR, a platform file's {@code atsr} lines, the
 * device's ATS capability (inherited by VFs) and the unit's ECAP.
 */
class AtsDecisionTest {

    static PciAddress pci(String bdf) {
        return PciAddress.parse(bdf);
    }

    @Test
    void theDmarsAtsrsNameRootPortsOrAllPortsOfASegment() throws IOException {
        Platform p = PlatformFileParser.parse(DmarBytes.DMAR_SOURCES.resolve("server-two-segments.txt"));
        AtsReports ats = p.ats();
        assertThat(ats.atsrs()).hasSize(2);
        assertThat(ats.atsrs().get(0).allPorts()).isFalse();
        assertThat(ats.atsrs().get(0).rootPorts()).containsExactly(pci("0000:00:1d.0"));
        assertThat(ats.atsrs().get(0).origin()).contains("server-two-segments.dat: ATSR #0 at offset 0x");
        assertThat(ats.atsrs().get(1).allPorts()).isTrue();
        assertThat(ats.atsrs().get(1).segment()).isEqualTo(1);
        PciInventory inv = p.inventory();
        assertThat(ats.permits(inv, pci("0000:05:00.0"))).as("behind a switch below ATSR root port 1d.0").isTrue();
        assertThat(ats.permits(inv, pci("0000:02:00.0"))).as("below root port 1c.0, no ATSR names it").isFalse();
        assertThat(ats.permits(inv, pci("0000:07:00.0"))).as("below root port 1e.0").isFalse();
        assertThat(ats.permits(inv, pci("0000:00:14.0"))).as("integrated: on the root bus").isTrue();
        assertThat(ats.permits(inv, pci("0001:41:00.0"))).as("segment 1: ALL_PORTS").isTrue();
        assertThat(ats.permits(inv, pci("0001:41:10.0"))).as("a VF, through its PF").isTrue();
    }

    @Test
    void aSatcDecidesForTheDevicesItNamesAndAtcRequiredMeansTheHardwareDoesIt() {
        byte[] dmar = DmarBytes.resource("client-satc.dat");
        PciInventory inv = PciInventory.builder().endpoint(pci("0000:00:02.0"), "gpu", 0)
                .endpoint(pci("0000:00:05.0"), "ipu", 0)
                .bridge(new PciInventory.Bridge(pci("0000:00:1c.0"), 1, 1), "port")
                .endpoint(pci("0000:01:00.0"), "nic", 0).build();
        AtsReports required = DmarUnits.platform(DmarParser.parse("client-satc.dat", dmar), inv).ats();
        assertThat(required.satcs()).singleElement().satisfies(s -> {
            assertThat(s.atcRequired()).isTrue();
            assertThat(s.devices()).containsExactly(pci("0000:00:02.0"), pci("0000:00:05.0"));
        });
        // legacy mode: !(atc_required && !sm_supported)
        assertThat(required.permits(inv, pci("0000:00:02.0"))).isFalse();
        AtsReports optional = DmarUnits.platform(DmarParser.parse("client-satc.dat",
                DmarBytes.with(dmar, 0x88 + 4, 1, 0)), inv).ats();
        assertThat(optional.permits(inv, pci("0000:00:02.0"))).isTrue();
        assertThat(optional.permits(inv, pci("0000:01:00.0"))).as("below a root port no ATSR names").isFalse();
    }

    private static Platform file(String... extra) {
        List<String> lines = new ArrayList<>(List.of(
                "iommu-platform 1",
                "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050de include-pci-all",
                "endpoint 0000:00:14.0 ats                   # integrated",
                "bridge   0000:00:1c.0 01-03                 # root port",
                "bridge   0000:01:00.0 02-03                 # switch upstream port",
                "bridge   0000:02:01.0 03-03                 # switch downstream port",
                "sriov    0000:03:00.0 totalvfs=8 numvfs=2 offset=128 stride=1 ats",
                "bridge   0000:00:1d.0 04-05                 # root port",
                "bridge   0000:04:00.0 05-05 kind=pcie-to-pci",
                "endpoint 0000:05:00.0 ats                   # behind a PCIe-to-PCI bridge",
                "bridge   0000:00:1e.0 06-06                 # root port",
                "endpoint 0000:06:00.0                       # no ATS capability"));
        lines.addAll(List.of(extra));
        return PlatformFileParser.parse("ats.txt", lines);
    }

    @Test
    void aPlatformFilesAtsFlagIsTheDevicesCapabilityAndItsVfsInheritIt() {
        PciInventory inv = file().inventory();
        assertThat(inv.hasAts(pci("0000:03:00.0"))).isTrue();
        assertThat(inv.hasAts(pci("0000:03:10.0"))).as("VF 1").isTrue();
        assertThat(inv.hasAts(pci("0000:06:00.0"))).isFalse();
        assertThat(inv.hasAts(pci("0000:00:1c.0"))).as("a bridge").isFalse();
        assertThat(inv.atsQueueDepth(pci("0000:03:10.0"))).as("0: 32 invalidations").isZero();
    }

    @Test
    void anAtsrLineOfRootPortsOrAllPorts() {
        Platform listed = file("atsr 0000:00:1c.0 0000:00:1d.0");
        PciInventory inv = listed.inventory();
        assertThat(listed.ats().atsrs()).singleElement().satisfies(a -> {
            assertThat(a.origin()).isEqualTo("ats.txt: line 13");
            assertThat(a.rootPorts()).containsExactly(pci("0000:00:1c.0"), pci("0000:00:1d.0"));
        });
        assertThat(listed.ats().permits(inv, pci("0000:03:10.0"))).as("switch ports walked to the root port").isTrue();
        assertThat(listed.ats().permits(inv, pci("0000:05:00.0"))).as("connected via non-PCIe").isFalse();
        assertThat(listed.ats().permits(inv, pci("0000:06:00.0"))).as("root port 1e.0 not listed").isFalse();
        assertThat(listed.ats().permits(inv, pci("0000:00:14.0"))).isTrue();
        Platform all = file("atsr all-ports");
        assertThat(all.ats().atsrs()).singleElement().satisfies(a -> {
            assertThat(a.allPorts()).isTrue();
            assertThat(a.segment()).isZero();
        });
        assertThat(all.ats().permits(inv, pci("0000:06:00.0"))).isTrue();
        assertThat(all.ats().permits(inv, pci("0000:05:00.0"))).isFalse();
        assertThat(file().ats().permits(inv, pci("0000:03:00.0"))).as("no ATSR at all").isFalse();
    }

    @Test
    void aUnitUsesADeviceTlbWithEcapDtAndQiTheDevicesCapabilityAndTheFirmwaresConsent() {
        Platform p = file("atsr all-ports");
        PciInventory inv = p.inventory();
        AtsReports ats = p.ats();
        ExtendedCapability dt = ExtendedCapability.parse("f050de");
        assertThat(ats.usesAts(dt, inv, pci("0000:03:10.0"))).isTrue();
        assertThat(ats.usesAts(ExtendedCapability.parse("f050da"), inv, pci("0000:03:10.0"))).as("no DT").isFalse();
        assertThat(ats.usesAts(ExtendedCapability.parse("f050dc"), inv, pci("0000:03:10.0"))).as("DT, no QI")
                .isFalse();
        assertThat(ats.usesAts(dt, inv, pci("0000:06:00.0"))).as("no ATS capability").isFalse();

        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        registry.admit(p, "test", false, false);
        VtdUnit unit = registry.unit("dmar0").orElseThrow();
        assertThat(unit.devices().stream().filter(unit::hasDeviceTlb)).containsExactly(pci("0000:00:14.0"),
                pci("0000:03:00.0"), pci("0000:03:10.0"), pci("0000:03:10.1"));
    }

    @Test
    void aDiscoveredPlatformThatDisagreesOnAtsIsRefusedAndNothingChanges() {
        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        registry.admit(file("atsr all-ports"), "test", false, false);
        PciInventory before = registry.inventory();
        AtsReports atsBefore = registry.atsReports();
        Platform other = PlatformFileParser.parse("other.txt", List.of("iommu-platform 1",
                "unit dmar9 base=0xfed99000 cap=d2008c40660462 ecap=f050de",
                "    scope endpoint 0000:07:00.0",
                "endpoint 0000:07:00.0",
                "sriov    0000:03:00.0 totalvfs=8 numvfs=2 offset=128 stride=1"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> registry.admit(other, "discovery", true, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("other.txt has SR-IOV PF 0000:03:00.0 with 2 VFs without ATS where the platform has SR-IOV"
                        + " PF 0000:03:00.0 with 2 VFs with ATS: expected the same PCI topology");
        assertThat(registry.inventory()).isSameAs(before);
        assertThat(registry.atsReports()).isSameAs(atsBefore);
        assertThat(registry.units()).extracting(VtdUnit::id).containsExactly("dmar0");
    }
}
