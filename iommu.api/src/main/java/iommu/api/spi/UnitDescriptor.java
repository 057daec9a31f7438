package iommu.api.spi;

import java.util.Objects;
import java.util.Set;

import iommu.api.DomainId;

/**
 * What an allocation strategy knows of a unit: its id, how many domain ids it
 * supports and which of them are reserved.
 */
public record UnitDescriptor(String unitId, int domainIdCount, Set<DomainId> reserved) {

    public UnitDescriptor {
        Objects.requireNonNull(unitId, "unitId");
        if (domainIdCount < 1 || domainIdCount > DomainId.MAX + 1) {
            throw new IllegalArgumentException("unit " + unitId + ": domain id count " + domainIdCount
                    + " out of range: expected 1.." + (DomainId.MAX + 1));
        }
        reserved = Set.copyOf(reserved);
        for (DomainId did : reserved) {
            if (did.value() >= domainIdCount) {
                throw new IllegalArgumentException("unit " + unitId + ": reserved domain id " + did
                        + " beyond its " + domainIdCount + " ids");
            }
        }
    }

    public static UnitDescriptor of(IommuUnit unit) {
        return new UnitDescriptor(unit.id(), unit.domainIdCount(), unit.reservedDomainIds());
    }

    /** How many domain ids guests can get here. */
    public int usable() {
        return domainIdCount - reserved.size();
    }
}
