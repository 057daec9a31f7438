package iommu.alloc.global;

import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.DomainIdBitmap;
import iommu.api.spi.StrategyRefusedException;
import iommu.api.spi.UnitDescriptor;

/**
 * One bitmap for every unit. A guest holds one id, valid on each unit where
 * it has a device; the id returns to the bitmap when the guest has left the
 * last of them.
 */
final class GlobalAllocator implements DomainIdAllocator {

    /** The shared space: as many ids as the smallest unit has, minus every unit's reserved ids. */
    record SharedSpace(int size, Set<Integer> reserved, String smallestUnit) {
        int usable() {
            return size - reserved.size();
        }
    }

    static SharedSpace sharedSpace(Collection<UnitDescriptor> units) {
        int size = 0x10000;
        String smallest = null;
        Set<Integer> reserved = new TreeSet<>();
        for (UnitDescriptor u : units) {
            if (u.domainIdCount() < size || smallest == null) {
                size = Math.min(size, u.domainIdCount());
                smallest = u.unitId();
            }
        }
        for (UnitDescriptor u : units) {
            for (DomainId did : u.reserved()) {
                if (did.value() < size) {
                    reserved.add(did.value());
                }
            }
        }
        if (units.isEmpty()) {
            reserved.add(0); // every vendor keeps id 0 back; with no unit yet, assume it
        }
        return new SharedSpace(size, reserved, smallest);
    }

    private final Map<String, UnitDescriptor> units = new HashMap<>();
    private SharedSpace space;
    private DomainIdBitmap bitmap;
    private final Map<GuestId, DomainId> guestIds = new HashMap<>();
    private final Map<GuestId, Set<String>> guestUnits = new HashMap<>();
    private final Map<Assignment, DomainId> renumbering = new LinkedHashMap<>();

    GlobalAllocator(Collection<UnitDescriptor> initialUnits, Collection<Assignment> current) {
        initialUnits.forEach(u -> units.put(u.unitId(), u));
        resize();

        Map<GuestId, List<Assignment>> byGuest = current.stream()
                .collect(Collectors.groupingBy(Assignment::guest, LinkedHashMap::new, Collectors.toList()));
        if (byGuest.size() > space.usable()) {
            throw new StrategyRefusedException("global cannot hold the current assignments: " + byGuest.size()
                    + " guests hold domain ids but the shared space has " + space.usable() + " usable ids (unit "
                    + space.smallestUnit() + " has " + space.size() + ", reserved " + space.reserved() + ")");
        }
        // Keep a guest's id when all its units agree on it and no earlier guest took it;
        // otherwise it is renumbered below, once every kept id is known.
        List<GuestId> toRenumber = new java.util.ArrayList<>();
        for (Map.Entry<GuestId, List<Assignment>> e : byGuest.entrySet()) {
            Set<DomainId> ids = e.getValue().stream().map(Assignment::domainId).collect(Collectors.toSet());
            for (Assignment a : e.getValue()) {
                unit(a.unitId());
            }
            guestUnits.put(e.getKey(), e.getValue().stream().map(Assignment::unitId)
                    .collect(Collectors.toCollection(HashSet::new)));
            DomainId did = ids.size() == 1 ? ids.iterator().next() : null;
            if (did != null && usableFree(did.value())) {
                bitmap.set(did.value());
                guestIds.put(e.getKey(), did);
            } else {
                toRenumber.add(e.getKey());
            }
        }
        for (GuestId guest : toRenumber) {
            DomainId did = DomainId.of(bitmap.allocateLowest()); // fits: checked the guest count above
            guestIds.put(guest, did);
            for (Assignment a : byGuest.get(guest)) {
                if (!a.domainId().equals(did)) {
                    renumbering.put(a, did);
                }
            }
        }
    }

    private boolean usableFree(int did) {
        return did < space.size() && !space.reserved().contains(did) && !bitmap.isSet(did);
    }

    /** Recomputes the shared space for the units present, keeping the ids in use. */
    private void resize() {
        SharedSpace next = sharedSpace(units.values());
        DomainIdBitmap nextBitmap = new DomainIdBitmap(next.size());
        next.reserved().forEach(nextBitmap::set);
        for (DomainId did : guestIds.values()) {
            if (did.value() < next.size() && !nextBitmap.isSet(did.value())) {
                nextBitmap.set(did.value());
            }
        }
        space = next;
        bitmap = nextBitmap;
    }

    private UnitDescriptor unit(String unitId) {
        UnitDescriptor unit = units.get(unitId);
        if (unit == null) {
            throw new IommuException("unknown unit '" + unitId + "': expected one of " + units.keySet());
        }
        return unit;
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
        UnitDescriptor unit = unit(unitId);
        DomainId did = guestIds.get(guest);
        if (did == null) {
            int id = bitmap.allocateLowest();
            if (id < 0) {
                throw new DomainIdsExhaustedException(unitId, space.usable(), "no free domain id for guest " + guest
                        + " on unit " + unitId + ": all " + space.usable() + " usable ids of the global space shared by "
                        + units.size() + " units (sized by unit " + space.smallestUnit() + ", " + space.size()
                        + " ids) are held by guests (strategy global)");
            }
            did = DomainId.of(id);
            guestIds.put(guest, did);
        } else if (did.value() >= unit.domainIdCount() || unit.reserved().contains(did)) {
            throw new IommuException("guest " + guest + " holds global domain id " + did + ", which unit " + unitId
                    + " cannot use (" + unit.domainIdCount() + " ids, reserved " + unit.reserved() + ")");
        }
        guestUnits.computeIfAbsent(guest, g -> new HashSet<>()).add(unitId);
        return did;
    }

    @Override
    public void release(GuestId guest, String unitId, DomainId domainId) {
        DomainId did = guestIds.get(guest);
        Set<String> held = guestUnits.get(guest);
        if (did == null || !did.equals(domainId) || held == null || !held.remove(unitId)) {
            throw new IllegalStateException("guest " + guest + " does not hold domain id " + domainId + " on unit " + unitId);
        }
        if (held.isEmpty()) {
            guestUnits.remove(guest);
            guestIds.remove(guest);
            if (did.value() < bitmap.size() && bitmap.isSet(did.value())) {
                bitmap.clear(did.value());
            }
        }
    }

    @Override
    public void addUnit(UnitDescriptor unit) {
        if (units.putIfAbsent(unit.unitId(), unit) != null) {
            throw new IllegalStateException("unit " + unit.unitId() + " is already known");
        }
        resize();
    }

    @Override
    public void removeUnit(String unitId) {
        if (units.remove(unitId) != null) {
            resize();
        }
    }

    @Override
    public BitSet inUse(String unitId) {
        unit(unitId);
        BitSet bits = new BitSet();
        guestUnits.forEach((guest, held) -> {
            if (held.contains(unitId)) {
                bits.set(guestIds.get(guest).value());
            }
        });
        return bits;
    }

    @Override
    public int free(String unitId) {
        unit(unitId);
        return space.size() - bitmap.used();
    }

    /**
     * The rule only this strategy has: a guest holds one id, the same on every
     * unit. The platform's audit used to check it itself by the strategy's
     * name; the line is the one it wrote. Guests in id order.
     */
    @Override
    public List<String> check(Collection<Assignment> assignments) {
        Map<GuestId, List<DomainId>> byGuest = new TreeMap<>();
        for (Assignment a : assignments) {
            byGuest.computeIfAbsent(a.guest(), g -> new java.util.ArrayList<>()).add(a.domainId());
        }
        List<String> problems = new java.util.ArrayList<>();
        byGuest.forEach((guest, held) -> {
            Set<DomainId> ids = new TreeSet<>(held);
            if (ids.size() > 1) {
                problems.add("guest " + guest + " holds domain ids " + ids
                        + " on different units; strategy global gives one id on every unit");
            }
        });
        return problems;
    }
}
