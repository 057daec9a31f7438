package iommu.core.assign;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.osgi.service.component.annotations.Component;

import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.IommuException;

/**
 * Guest to (unit, domain id) as hash lookups, and (unit, domain id) to guest
 * as one array element per unit, as the fault path reads it. Readers (the
 * flush service, the console) need no lock; writers are serialized by the
 * assignment manager. Registered under its own class too, so that only this
 * bundle can write it.
 */
@Component(service = {DomainIdMap.class, DomainIdTable.class})
public class DomainIdTable implements DomainIdMap {

    /** One unit's ids: the holder of each id, read as one array element (the fault path), and a count. */
    private static final class UnitIds {
        final AtomicReferenceArray<GuestId> holders = new AtomicReferenceArray<>(DomainId.MAX + 1);
        final AtomicInteger used = new AtomicInteger();
    }

    private final Map<GuestId, Map<String, DomainId>> byGuest = new ConcurrentHashMap<>();
    private final Map<String, UnitIds> byUnit = new ConcurrentHashMap<>();

    @Override
    public Optional<DomainId> domainId(GuestId guest, String unitId) {
        Map<String, DomainId> units = byGuest.get(guest);
        return units == null ? Optional.empty() : Optional.ofNullable(units.get(unitId));
    }

    @Override
    public Optional<GuestId> guest(String unitId, DomainId domainId) {
        UnitIds ids = byUnit.get(unitId);
        return ids == null ? Optional.empty() : Optional.ofNullable(ids.holders.get(domainId.value()));
    }

    @Override
    public Map<String, DomainId> domainsOf(GuestId guest) {
        Map<String, DomainId> units = byGuest.get(guest);
        return units == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(units));
    }

    @Override
    public Map<DomainId, GuestId> domainsOn(String unitId) {
        UnitIds ids = byUnit.get(unitId);
        if (ids == null) {
            return Map.of();
        }
        Map<DomainId, GuestId> map = new TreeMap<>();
        for (int did = 0; did <= DomainId.MAX && map.size() < ids.used.get(); did++) {
            GuestId holder = ids.holders.get(did);
            if (holder != null) {
                map.put(DomainId.of(did), holder);
            }
        }
        return Collections.unmodifiableMap(map);
    }

    @Override
    public Set<GuestId> guests() {
        return Set.copyOf(byGuest.keySet());
    }

    public int usedOn(String unitId) {
        UnitIds ids = byUnit.get(unitId);
        return ids == null ? 0 : ids.used.get();
    }

    /** Records the guest's domain id on the unit; on that unit neither may be taken already. */
    public void put(GuestId guest, String unitId, DomainId did) {
        UnitIds ids = byUnit.computeIfAbsent(unitId, u -> new UnitIds());
        GuestId holder = ids.holders.get(did.value());
        if (holder != null && !holder.equals(guest)) {
            throw new IommuException("domain id " + did + " on unit " + unitId + " is held by guest " + holder
                    + ": cannot give it to guest " + guest);
        }
        Map<String, DomainId> units = byGuest.computeIfAbsent(guest, g -> new ConcurrentHashMap<>());
        DomainId held = units.get(unitId);
        if (held != null && !held.equals(did)) {
            throw new IommuException("guest " + guest + " already holds domain id " + held + " on unit " + unitId);
        }
        units.put(unitId, did);
        if (ids.holders.getAndSet(did.value(), guest) == null) {
            ids.used.incrementAndGet();
        }
    }

    /**
     * Forgets the guest's domain id on the unit: the id-to-guest entry first, so
     * no reader sees an id that looks free still mapped (Xen XSA-399 order).
     */
    public void remove(GuestId guest, String unitId, DomainId did) {
        UnitIds ids = byUnit.get(unitId);
        GuestId holder = ids == null ? null : ids.holders.get(did.value());
        // compareAndSet compares references: pass the instance held, once it is known to be this guest
        if (holder == null || !holder.equals(guest) || !ids.holders.compareAndSet(did.value(), holder, null)) {
            throw new IllegalStateException("domain id " + did + " on unit " + unitId + " is not guest " + guest + "'s");
        }
        ids.used.decrementAndGet();
        Map<String, DomainId> units = byGuest.get(guest);
        units.remove(unitId, did);
        if (units.isEmpty()) {
            byGuest.remove(guest, units);
        }
    }

    public void clear() {
        byUnit.clear();
        byGuest.clear();
    }
}
