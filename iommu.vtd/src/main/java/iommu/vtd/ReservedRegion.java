package iommu.vtd;

import java.util.List;
import java.util.Objects;

import iommu.api.PciAddress;

/**
 * Memory that firmware keeps for some devices' own DMA behind the host's
 * back (an ACPI DMAR RMRR): the devices of its scopes keep DMAing to
 * {@code base..limit}, so giving one of them to a guest needs an explicit
 * override (Xen's strict RDM policy).
 *
 * @param origin where it came from, e.g. {@code lab.dat: RMRR #0 at offset 0x98}
 * @param scopes the devices, resolved: an endpoint, or a bridge and the buses behind it
 */
public record ReservedRegion(String origin, int segment, long base, long limit, List<DeviceScope> scopes) {
    public ReservedRegion {
        Objects.requireNonNull(origin, "origin");
        scopes = List.copyOf(scopes);
    }

    /** Whether the device is one of the region's: named by an endpoint scope or behind a bridge scope (Linux device_has_rmrr). */
    public boolean covers(PciAddress device) {
        return device.segment() == segment && scopes.stream().anyMatch(s -> s.covers(device));
    }

    @Override
    public String toString() {
        return String.format("%04x [0x%x-0x%x] %s", segment, base, limit, scopes);
    }
}
