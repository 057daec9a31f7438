package iommu.api.spi;

import java.util.Objects;

import iommu.api.DomainId;
import iommu.api.GuestId;

/**
 * What a unit's context entry for a device holds: the domain id tagging the
 * device's translations and the guest whose I/O page tables translate them.
 */
public record DeviceContext(DomainId domainId, GuestId guest) {
    public DeviceContext {
        Objects.requireNonNull(domainId, "domainId");
        Objects.requireNonNull(guest, "guest");
        if (guest.isHost()) {
            throw new IllegalArgumentException("the host (guest 0) has no context entry: its devices are in pass-through");
        }
    }
}
