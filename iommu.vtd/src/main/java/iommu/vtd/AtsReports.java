package iommu.vtd;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import iommu.api.PciAddress;

/**
 * Where the firmware lets the OS use PCIe ATS, the devices' own
 * device-TLBs: the DMAR's root port ATS capability reports (ATSR, or a
 * platform file's {@code atsr} lines) and SoC integrated address translation
 * caches (SATC), their scopes resolved against the PCI topology; and the
 * decision they feed, as Linux's {@code dmar_ats_supported}
 * (drivers/iommu/intel/iommu.c) takes it.
 *
 * @param atsrs in table (or file) order
 * @param satcs in table order
 */
public record AtsReports(List<Atsr> atsrs, List<Satc> satcs) {

    /** No ATSR, no SATC: only integrated devices (on a root bus) may use ATS. */
    public static final AtsReports NONE = new AtsReports(List.of(), List.of());

    /**
     * One ATSR: the root ports of a segment whose devices may use ATS, or
     * every root port of it ({@code ALL_PORTS}, flags bit 0).
     *
     * @param origin where it came from, for messages
     * @param rootPorts the bridges its scopes name, resolved (empty with ALL_PORTS)
     */
    public record Atsr(String origin, int segment, boolean allPorts, List<PciAddress> rootPorts) {
        public Atsr {
            Objects.requireNonNull(origin, "origin");
            rootPorts = List.copyOf(rootPorts);
        }
    }

    /**
     * One SATC: integrated devices with an address translation cache.
     * {@code atcRequired} (flags bit 0): the device works only with ATS, which
     * in legacy mode the hardware enables by itself, so the OS must not.
     *
     * @param devices the endpoints its scopes name, resolved
     */
    public record Satc(String origin, int segment, boolean atcRequired, List<PciAddress> devices) {
        public Satc {
            Objects.requireNonNull(origin, "origin");
            devices = List.copyOf(devices);
        }
    }

    public AtsReports {
        atsrs = List.copyOf(atsrs);
        satcs = List.copyOf(satcs);
    }

    /** These reports and another platform's, as discovery adds them. */
    AtsReports plus(AtsReports other) {
        if (other.atsrs.isEmpty() && other.satcs.isEmpty()) {
            return this;
        }
        List<Atsr> a = new ArrayList<>(atsrs);
        a.addAll(other.atsrs);
        List<Satc> s = new ArrayList<>(satcs);
        s.addAll(other.satcs);
        return new AtsReports(a, s);
    }

    /**
     * Whether a unit with these registers lets the device use its device-TLB,
     * as Linux's {@code intel_iommu_probe_device} sets
     * {@code info->ats_supported}: ECAP.DT, the device's ATS capability
     * ({@code pci_ats_supported}) and {@link #permits}. The model also asks
     * for ECAP.QI: a device-TLB is invalidated only by a queued descriptor
     * (VT-d 6.5.2.5), so without the queue nothing could invalidate it.
     */
    boolean usesAts(ExtendedCapability ecap, PciInventory inventory, PciAddress device) {
        return ecap.deviceTlb() && ecap.queuedInvalidation() && inventory.hasAts(device) && permits(inventory, device);
    }

    /**
     * Linux {@code dmar_ats_supported} in legacy mode. The device is looked at
     * as its PF ({@code pci_physfn}). A SATC naming it decides:
     * {@code !(atc_required && !sm_supported)}, and legacy mode has no
     * scalable mode. Else the walk up its buses: a device on a root bus (no
     * bridge above, "integrated") may; a bridge that is not a PCIe port on
     * the way (a PCIe-to-PCI or conventional PCI bridge: "connected via
     * non-PCIe") may not; at the root port (a PCIe port on a root bus) an ATSR
     * of the segment that names it, or has ALL_PORTS, lets it. Not told apart
     * here: a PCI/PCI-X-to-PCIe bridge (type 0x8), which the inventory keeps
     * as a {@code pci} bridge for its aliasing, stops the walk where Linux
     * goes on past it.
     */
    boolean permits(PciInventory inventory, PciAddress device) {
        PciAddress dev = inventory.scopedAs(device);
        for (Satc satc : satcs) {
            if (satc.segment() == dev.segment() && satc.devices().contains(dev)) {
                return !satc.atcRequired();
            }
        }
        Optional<PciAddress> rootPort = rootPortAbove(inventory, dev);
        if (rootPort == null) {
            return false;
        }
        if (rootPort.isEmpty()) {
            return true;
        }
        for (Atsr atsr : atsrs) {
            if (atsr.segment() == dev.segment() && (atsr.rootPorts().contains(rootPort.get()) || atsr.allPorts())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The root port above the device; empty when it sits on a root bus
     * (integrated); null when a non-PCIe bridge lies on the way.
     */
    private static Optional<PciAddress> rootPortAbove(PciInventory inventory, PciAddress dev) {
        int bus = dev.bus();
        for (Optional<PciInventory.Bridge> above = DmaAliases.bridgeAbove(inventory, dev.segment(), bus);
                above.isPresent(); above = DmaAliases.bridgeAbove(inventory, dev.segment(), bus)) {
            PciInventory.Bridge bridge = above.get();
            if (bridge.kind() != PciInventory.BridgeKind.PCIE_PORT) {
                return null;
            }
            if (isRootPort(inventory, bridge)) {
                return Optional.of(bridge.address());
            }
            bus = bridge.address().bus();
        }
        return Optional.empty();
    }

    /** A PCIe port on a root bus (no bridge above it): a root port, not a switch port. */
    static boolean isRootPort(PciInventory inventory, PciInventory.Bridge bridge) {
        return bridge.kind() == PciInventory.BridgeKind.PCIE_PORT
                && DmaAliases.bridgeAbove(inventory, bridge.address().segment(), bridge.address().bus()).isEmpty();
    }
}
