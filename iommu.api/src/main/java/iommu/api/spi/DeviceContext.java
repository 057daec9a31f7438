package iommu.api.spi;

import java.util.Objects;

import iommu.api.DomainId;
import iommu.api.GuestId;

/**
 * What a unit's context entry for a device holds: the domain id tagging the
 * device's translations and the guest whose I/O page tables translate them.
 * Guest 0 is the host: its entries put host-owned devices in the unit's host
 * domain ({@link IommuUnit#hostTranslation}, since 1.3).
 */
public record DeviceContext(DomainId domainId, GuestId guest) {
    public DeviceContext {
        Objects.requireNonNull(domainId, "domainId");
        Objects.requireNonNull(guest, "guest");
    }

    /** The host domain's entry for a host-owned device. */
    public static DeviceContext host(DomainId domainId) {
        return new DeviceContext(domainId, GuestId.HOST);
    }

    /** Whether the entry is the host domain's. */
    public boolean isHost() {
        return guest.isHost();
    }
}
