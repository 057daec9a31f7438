package iommu.api.spi;

import java.util.Objects;

import iommu.api.DomainId;
import iommu.api.GuestId;

/** A guest's domain id on one unit. */
public record Assignment(GuestId guest, String unitId, DomainId domainId) {
    public Assignment {
        Objects.requireNonNull(guest, "guest");
        Objects.requireNonNull(unitId, "unitId");
        Objects.requireNonNull(domainId, "domainId");
    }
}
