package iommu.itest;

import java.util.BitSet;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;

/**
 * Injects a failure in the middle of a renumbering: it moves every guest to a
 * fresh id, and the last one of them to domain id 0, which every VT-d unit
 * keeps back, so the unit refuses that context entry after the others were
 * rewritten.
 */
final class FaultyStrategy implements AllocationStrategy {

    static final String NAME = "faulty";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "renumbers everything and fails on the last entry";
    }

    @Override
    public long capacity(Collection<UnitDescriptor> units) {
        return 0;
    }

    @Override
    public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> current) {
        Map<Assignment, DomainId> plan = new LinkedHashMap<>();
        List<Assignment> all = List.copyOf(current);
        for (int i = 0; i < all.size(); i++) {
            plan.put(all.get(i), DomainId.of(i == all.size() - 1 ? 0 : 200 + i % 50));
        }
        return new DomainIdAllocator() {
            @Override public Map<Assignment, DomainId> renumbering() { return plan; }
            @Override public void commitRenumbering() { plan.clear(); }
            @Override public DomainId allocate(GuestId guest, String unitId) { throw new IommuException("faulty allocates nothing"); }
            @Override public void release(GuestId guest, String unitId, DomainId domainId) { }
            @Override public void addUnit(UnitDescriptor unit) { }
            @Override public void removeUnit(String unitId) { }
            @Override public BitSet inUse(String unitId) { return new BitSet(); }
            @Override public int free(String unitId) { return 0; }
        };
    }
}
