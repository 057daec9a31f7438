package iommu.alloc.perunit;

import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.DomainIdBitmap;
import iommu.api.spi.StrategyRefusedException;
import iommu.api.spi.UnitDescriptor;

/** A bitmap per unit. Assignments that are valid on their unit are adopted as they are. */
final class PerUnitAllocator implements DomainIdAllocator {

    private static final class UnitSpace {
        final UnitDescriptor unit;
        final DomainIdBitmap bitmap;

        UnitSpace(UnitDescriptor unit) {
            this.unit = unit;
            this.bitmap = new DomainIdBitmap(unit.domainIdCount());
            unit.reserved().forEach(did -> bitmap.set(did.value()));
        }

        int free() {
            return bitmap.size() - bitmap.used();
        }
    }

    private final Map<String, UnitSpace> spaces = new HashMap<>();
    private final Map<Assignment, DomainId> renumbering = new LinkedHashMap<>();

    PerUnitAllocator(Collection<UnitDescriptor> units, Collection<Assignment> current) {
        units.forEach(this::addUnit);
        // First adopt every assignment that is valid where it is; then renumber the rest
        // (an id out of the unit's range or reserved, e.g. inherited from another strategy).
        Map<Assignment, UnitSpace> invalid = new LinkedHashMap<>();
        for (Assignment a : current) {
            UnitSpace space = space(a.unitId());
            int did = a.domainId().value();
            if (did < space.bitmap.size() && !space.unit.reserved().contains(a.domainId()) && !space.bitmap.isSet(did)) {
                space.bitmap.set(did);
            } else {
                invalid.put(a, space);
            }
        }
        for (Map.Entry<Assignment, UnitSpace> e : invalid.entrySet()) {
            int did = e.getValue().bitmap.allocateLowest();
            if (did < 0) {
                throw new StrategyRefusedException("per-unit cannot hold the current assignments: unit "
                        + e.getKey().unitId() + " has " + e.getValue().unit.usable() + " usable domain ids and more guests");
            }
            renumbering.put(e.getKey(), DomainId.of(did));
        }
    }

    private UnitSpace space(String unitId) {
        UnitSpace space = spaces.get(unitId);
        if (space == null) {
            throw new IommuException("unknown unit '" + unitId + "': expected one of " + spaces.keySet());
        }
        return space;
    }

    @Override
    public Map<Assignment, DomainId> renumbering() {
        return Collections.unmodifiableMap(renumbering);
    }

    @Override
    public void commitRenumbering() {
        renumbering.clear();
    }

    @Override
    public DomainId allocate(GuestId guest, String unitId) {
        UnitSpace space = space(unitId);
        int did = space.bitmap.allocateLowest();
        if (did < 0) {
            throw new DomainIdsExhaustedException(unitId, space.unit.usable(), "unit " + unitId
                    + " has no free domain id: all " + space.unit.usable() + " usable ids of its "
                    + space.unit.domainIdCount() + " are held by guests (strategy per-unit)");
        }
        return DomainId.of(did);
    }

    @Override
    public void release(GuestId guest, String unitId, DomainId domainId) {
        UnitSpace space = space(unitId);
        if (space.unit.reserved().contains(domainId)) {
            throw new IllegalStateException("domain id " + domainId + " is reserved on unit " + unitId);
        }
        space.bitmap.clear(domainId.value());
    }

    @Override
    public void addUnit(UnitDescriptor unit) {
        if (spaces.putIfAbsent(unit.unitId(), new UnitSpace(unit)) != null) {
            throw new IllegalStateException("unit " + unit.unitId() + " is already known");
        }
    }

    @Override
    public void removeUnit(String unitId) {
        spaces.remove(unitId);
    }

    @Override
    public BitSet inUse(String unitId) {
        UnitSpace space = space(unitId);
        BitSet bits = space.bitmap.toBitSet();
        space.unit.reserved().forEach(did -> bits.clear(did.value()));
        return bits;
    }

    @Override
    public int free(String unitId) {
        return space(unitId).free();
    }
}
