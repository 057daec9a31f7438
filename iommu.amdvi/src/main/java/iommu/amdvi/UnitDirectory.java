package iommu.amdvi;

import java.util.Optional;

import iommu.api.PciAddress;

/** What a unit needs to know of the bundle's other units: who claims a device best. */
interface UnitDirectory {

    /**
     * The unit with the strongest claim on the device (on a tie the unit id
     * that sorts first, by {@link iommu.api.spi.support.UnitClaims}), if any.
     */
    Optional<AmdViUnit> bestClaimant(PciAddress device);

    /** Changes whenever the set of units changes, so that units can cache what they derive from it. */
    long generation();
}
