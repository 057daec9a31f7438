package iommu.vtd;

import java.util.Optional;

import iommu.api.PciAddress;

/**
 * What a unit needs to know of its platform: the PCI inventory and which
 * unit, among all registered, has the strongest claim on a device.
 */
interface UnitDirectory {

    PciInventory inventory();

    /**
     * The unit with the strongest claim on the device (endpoint over bridge
     * over INCLUDE_PCI_ALL; on a tie the unit id that sorts first, by
     * {@link iommu.api.spi.support.UnitClaims}), or empty.
     */
    Optional<VtdUnit> bestClaimant(PciAddress device);

    /**
     * Whether firmware reserved memory for the device's own DMA (an RMRR
     * names it, or a bridge above it); none by default.
     */
    default boolean hasReservedMemory(PciAddress device) {
        return false;
    }

    /** The firmware's ATSRs and SATCs (a platform file's atsr lines): where devices may use ATS; none by default. */
    default AtsReports atsReports() {
        return AtsReports.NONE;
    }

    /** The RMRRs that name the device or a bridge above it, in address order. */
    default java.util.List<ReservedRegion> reservedMemoryOf(PciAddress device) {
        return java.util.List.of();
    }
}
