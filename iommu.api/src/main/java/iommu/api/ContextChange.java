package iommu.api;

import java.util.Objects;

/**
 * One device's context entry changed on a unit: it held {@code domainId}
 * before (or holds it now, when {@code newlyPresent}).
 *
 * @param newlyPresent the entry went from not-present to present
 */
public record ContextChange(String unitId, PciAddress device, DomainId domainId, boolean newlyPresent) {
    public ContextChange {
        Objects.requireNonNull(unitId, "unitId");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(domainId, "domainId");
    }
}
