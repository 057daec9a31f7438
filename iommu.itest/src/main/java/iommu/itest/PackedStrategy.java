package iommu.itest;

import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.DomainIdBitmap;
import iommu.api.spi.UnitDescriptor;

/**
 * A third party's strategy, written against the SPI alone: per unit, and on
 * binding it packs each unit's guests onto the lowest ids (1, 2, 3, ...),
 * closing the holes that detaches left.
 */
final class PackedStrategy implements AllocationStrategy {

    static final String NAME = "packed";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "per unit, packed onto the lowest ids on binding";
    }

    @Override
    public long capacity(Collection<UnitDescriptor> units) {
        return units.stream().mapToLong(UnitDescriptor::usable).sum();
    }

    @Override
    public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> current) {
        Map<String, DomainIdBitmap> bitmaps = new HashMap<>();
        for (UnitDescriptor u : units) {
            DomainIdBitmap b = new DomainIdBitmap(u.domainIdCount());
            u.reserved().forEach(did -> b.set(did.value()));
            bitmaps.put(u.unitId(), b);
        }
        Map<Assignment, DomainId> plan = new LinkedHashMap<>();
        Map<String, List<Assignment>> byUnit = current.stream()
                .sorted(Comparator.comparingInt(a -> a.domainId().value()))
                .collect(Collectors.groupingBy(Assignment::unitId, LinkedHashMap::new, Collectors.toList()));
        byUnit.forEach((unitId, list) -> {
            for (Assignment a : list) {
                DomainId packed = DomainId.of(bitmaps.get(unitId).allocateLowest());
                if (!packed.equals(a.domainId())) {
                    plan.put(a, packed);
                }
            }
        });
        return new DomainIdAllocator() {
            @Override
            public Map<Assignment, DomainId> renumbering() {
                return plan;
            }

            @Override
            public void commitRenumbering() {
                plan.clear();
            }

            @Override
            public DomainId allocate(GuestId guest, String unitId) {
                int did = bitmaps.get(unitId).allocateLowest();
                if (did < 0) {
                    throw new DomainIdsExhaustedException(unitId, bitmaps.get(unitId).size() - 1,
                            "unit " + unitId + " is full (strategy packed)");
                }
                return DomainId.of(did);
            }

            @Override
            public void release(GuestId guest, String unitId, DomainId domainId) {
                bitmaps.get(unitId).clear(domainId.value());
            }

            @Override
            public void addUnit(UnitDescriptor unit) {
                DomainIdBitmap b = new DomainIdBitmap(unit.domainIdCount());
                unit.reserved().forEach(did -> b.set(did.value()));
                bitmaps.put(unit.unitId(), b);
            }

            @Override
            public void removeUnit(String unitId) {
                bitmaps.remove(unitId);
            }

            @Override
            public BitSet inUse(String unitId) {
                BitSet bits = bitmaps.get(unitId).toBitSet();
                units.stream().filter(u -> u.unitId().equals(unitId)).findFirst()
                        .ifPresent(u -> u.reserved().forEach(did -> bits.clear(did.value())));
                return bits;
            }

            @Override
            public int free(String unitId) {
                return bitmaps.get(unitId).size() - bitmaps.get(unitId).used();
            }
        };
    }
}
