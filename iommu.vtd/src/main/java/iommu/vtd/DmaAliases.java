package iommu.vtd;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import iommu.api.PciAddress;

/**
 * The requester ids a device's DMA carries on its way to the IOMMU, walked as
 * Linux's {@code pci_for_each_dma_alias} (drivers/pci/search.c) walks them:
 * first the device's own id, then, bus by bus up to the root bus, the alias
 * each bridge above it introduces:
 * <ul>
 * <li>a PCIe root or switch port ({@link PciInventory.BridgeKind#PCIE_PORT};
 * Linux: {@code PCI_EXP_TYPE_ROOT_PORT}, {@code _UPSTREAM},
 * {@code _DOWNSTREAM}): none, the walk goes on ({@code continue});</li>
 * <li>a PCIe-to-PCI/PCI-X bridge ({@link PciInventory.BridgeKind#PCIE_TO_PCI};
 * {@code PCI_EXP_TYPE_PCI_BRIDGE}):
 * {@code PCI_DEVID(tmp->subordinate->number, PCI_DEVFN(0, 0))}, its
 * secondary bus with devfn 00.0;</li>
 * <li>a conventional PCI bridge ({@link PciInventory.BridgeKind#PCI}, no PCIe
 * capability; also a PCI-to-PCIe bridge, {@code PCI_EXP_TYPE_PCIE_BRIDGE},
 * which the sysfs reader reads as this kind):
 * {@code PCI_DEVID(tmp->bus->number, tmp->devfn)}, the bridge's own id.</li>
 * </ul>
 * The last id is the one the unit finally sees. The bus above a device is the
 * innermost bridge whose bus range holds its bus; a bus no bridge's secondary
 * bus names (the buses SR-IOV VFs cross into) is a virtual bus, which Linux
 * skips ({@code if (!bus->self) continue}) to the bus above it, the same bridge.
 * The walk stops at a root bus, one no bridge covers.
 *
 * <p>Not modelled: the device quirks Linux applies first
 * ({@code pci_real_dma_dev}, {@code dma_alias_mask} /
 * {@code PCI_DEV_FLAGS_DMA_ALIAS_DEVFN}, {@code PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS}
 * on conventional bridges that are PCIe-to-PCI bridges without the
 * capability, {@code PCI_DEV_FLAGS_BRIDGE_XLATE_ROOT}): the inventory holds no
 * vendor or device ids to key them on. An alias equal to the id just before
 * it (a device at 00.0 on a PCIe-to-PCI bridge's secondary bus) is listed
 * once; Linux calls its function twice with it.
 */
final class DmaAliases {

    private DmaAliases() {
    }

    /**
     * The device's requester ids, its own first, the last the one the unit
     * sees ({@code pci_for_each_dma_alias}).
     */
    static List<PciAddress> of(PciInventory inventory, PciAddress device) {
        List<PciAddress> ids = new ArrayList<>();
        ids.add(device);
        int bus = device.bus();
        for (Optional<PciInventory.Bridge> above = bridgeAbove(inventory, device.segment(), bus); above.isPresent();
                above = bridgeAbove(inventory, device.segment(), bus)) {
            PciInventory.Bridge bridge = above.get();
            PciAddress alias = switch (bridge.kind()) {
                case PCIE_PORT -> null;
                case PCIE_TO_PCI -> new PciAddress(device.segment(), bridge.secondary(), 0, 0);
                case PCI -> bridge.address();
            };
            if (alias != null && !alias.equals(ids.get(ids.size() - 1))) {
                ids.add(alias);
            }
            bus = bridge.address().bus();
        }
        return List.copyOf(ids);
    }

    /** The id the unit finally sees of the device's DMA: the last of {@link #of}. */
    static PciAddress seen(PciInventory inventory, PciAddress device) {
        List<PciAddress> ids = of(inventory, device);
        return ids.get(ids.size() - 1);
    }

    /**
     * Whether {@code requester} is an alias (not the own id) of one of the
     * inventory's devices that {@code claimed} accepts. Only a conventional
     * bridge's own id or (secondary bus, 00.0) of a PCIe-to-PCI bridge can be
     * one, so only the devices behind such a bridge are walked.
     */
    static boolean isAliasOfAny(PciInventory inventory, PciAddress requester, Predicate<PciAddress> claimed) {
        for (PciInventory.Bridge bridge : inventory.bridges()) {
            if (bridge.address().segment() != requester.segment()) {
                continue;
            }
            boolean candidate = switch (bridge.kind()) {
                case PCIE_PORT -> false;
                case PCIE_TO_PCI -> requester.bus() == bridge.secondary() && requester.device() == 0
                        && requester.function() == 0;
                case PCI -> requester.equals(bridge.address());
            };
            if (!candidate) {
                continue;
            }
            for (PciAddress device : inventory.devices()) {
                if (bridge.covers(device) && !device.equals(requester) && claimed.test(device)
                        && of(inventory, device).contains(requester)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The innermost bridge whose bus range holds the bus (the greatest secondary bus among them), or empty: a root bus. */
    static Optional<PciInventory.Bridge> bridgeAbove(PciInventory inventory, int segment, int bus) {
        PciInventory.Bridge best = null;
        for (PciInventory.Bridge bridge : inventory.bridges()) {
            if (bridge.address().segment() == segment && bus >= bridge.secondary() && bus <= bridge.subordinate()
                    && (best == null || bridge.secondary() > best.secondary())) {
                best = bridge;
            }
        }
        return Optional.ofNullable(best);
    }
}
