package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.vtd.PciInventory.Bridge;
import iommu.vtd.PciInventory.BridgeKind;

/** The alias walk against the rules of Linux's pci_for_each_dma_alias (drivers/pci/search.c). */
class DmaAliasesTest {

    static PciAddress bdf(String text) {
        return PciAddress.parse(text);
    }

    static List<PciAddress> ids(String... texts) {
        return List.of(texts).stream().map(PciAddress::parse).toList();
    }

    /*
     * 00:1c.0 root port 01-04
     *   01:00.0 PCIe-to-PCI bridge 02-03 (aliases to 02:00.0)
     *     02:04.0 conventional PCI bridge 03-03 (aliases to itself)
     *       03:01.0, 03:01.1
     *     02:05.0, 02:00.0 endpoints
     * 00:1d.0 root port 05-05: 05:00.0 (PCIe endpoint, no alias)
     * 00:1e.0 conventional PCI bridge 06-06: 06:02.0, 06:02.1
     * 00:02.0 on the root bus
     * 00:1b.0 root port 08-09, a PF on 08 whose VFs cross into virtual bus 09
     */
    final PciInventory inventory = PciInventory.builder()
            .bridge(new Bridge(bdf("00:1c.0"), 1, 4, BridgeKind.PCIE_PORT), "t")
            .bridge(new Bridge(bdf("01:00.0"), 2, 3, BridgeKind.PCIE_TO_PCI), "t")
            .bridge(new Bridge(bdf("02:04.0"), 3, 3, BridgeKind.PCI), "t")
            .endpoint(bdf("03:01.0"), "t")
            .endpoint(bdf("03:01.1"), "t")
            .endpoint(bdf("02:05.0"), "t")
            .endpoint(bdf("02:00.0"), "t")
            .bridge(new Bridge(bdf("00:1d.0"), 5, 5), "t")
            .endpoint(bdf("05:00.0"), "t")
            .bridge(new Bridge(bdf("00:1e.0"), 6, 6, BridgeKind.PCI), "t")
            .endpoint(bdf("06:02.0"), "t")
            .endpoint(bdf("06:02.1"), "t")
            .endpoint(bdf("00:02.0"), "t")
            .bridge(new Bridge(bdf("00:1b.0"), 8, 9), "t")
            .physicalFunction(new PciInventory.PhysicalFunction(bdf("08:00.0"), 128, 128, 128, 2), "t")
            .build();

    @Test
    void pciForEachDmaAlias_rootBusDeviceHasOnlyItsOwnId() {
        assertThat(DmaAliases.of(inventory, bdf("00:02.0"))).isEqualTo(ids("00:02.0"));
    }

    @Test
    void pciForEachDmaAlias_pciePortAliasesNothing() {
        assertThat(DmaAliases.of(inventory, bdf("05:00.0"))).isEqualTo(ids("05:00.0"));
    }

    @Test
    void pciForEachDmaAlias_pcieToPciBridgeAliasesToSecondaryBusDevfn0() {
        // PCI_EXP_TYPE_PCI_BRIDGE: PCI_DEVID(tmp->subordinate->number, PCI_DEVFN(0, 0))
        assertThat(DmaAliases.of(inventory, bdf("02:05.0"))).isEqualTo(ids("02:05.0", "02:00.0"));
    }

    @Test
    void pciForEachDmaAlias_deviceAt00_0BehindPcieToPciBridgeIsListedOnce() {
        assertThat(DmaAliases.of(inventory, bdf("02:00.0"))).isEqualTo(ids("02:00.0"));
    }

    @Test
    void pciForEachDmaAlias_conventionalBridgeAliasesToItself() {
        // !pci_is_pcie(tmp): PCI_DEVID(tmp->bus->number, tmp->devfn)
        assertThat(DmaAliases.of(inventory, bdf("06:02.1"))).isEqualTo(ids("06:02.1", "00:1e.0"));
    }

    @Test
    void pciForEachDmaAlias_nestedBridgesEachAddTheirAliasUpToTheRoot() {
        assertThat(DmaAliases.of(inventory, bdf("03:01.1"))).isEqualTo(ids("03:01.1", "02:04.0", "02:00.0"));
        assertThat(DmaAliases.seen(inventory, bdf("03:01.0"))).isEqualTo(bdf("02:00.0"));
    }

    @Test
    void pciForEachDmaAlias_virtualBusOfVfsIsSkipped() {
        PciAddress vfOnBus9 = inventory.physicalFunction(bdf("08:00.0")).orElseThrow().vf(128);
        assertThat(vfOnBus9.bus()).isEqualTo(9);
        assertThat(DmaAliases.of(inventory, vfOnBus9)).isEqualTo(List.of(vfOnBus9));
    }

    @Test
    void anAliasIsRecognisedOnlyForTheClaimedDevicesBehindItsBridge() {
        assertThat(DmaAliases.isAliasOfAny(inventory, bdf("00:1e.0"), d -> true)).isTrue();
        assertThat(DmaAliases.isAliasOfAny(inventory, bdf("02:00.0"), d -> d.equals(bdf("03:01.0")))).isTrue();
        assertThat(DmaAliases.isAliasOfAny(inventory, bdf("02:04.0"), d -> d.equals(bdf("02:05.0")))).isFalse();
        assertThat(DmaAliases.isAliasOfAny(inventory, bdf("00:1c.0"), d -> true)).isFalse();
        assertThat(DmaAliases.isAliasOfAny(inventory, bdf("00:1e.0"), d -> false)).isFalse();
    }
}
