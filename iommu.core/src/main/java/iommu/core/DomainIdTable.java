package iommu.core;

import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;

import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.IommuException;

/**
 * Guest to (unit, domain id) and back, both as hash lookups. Readers (the
 * flush service, the console) need no lock; writers are serialized by the
 * assignment manager. Registered under its own class too, so that only this
 * bundle can write it.
 */
@Component(service = {DomainIdMap.class, DomainIdTable.class})
public class DomainIdTable implements DomainIdMap {

    private final Map<GuestId, Map<String, DomainId>> byGuest = new ConcurrentHashMap<>();
    private final Map<String, Map<DomainId, GuestId>> byUnit = new ConcurrentHashMap<>();

    @Override
    public Optional<DomainId> domainId(GuestId guest, String unitId) {
        Map<String, DomainId> units = byGuest.get(guest);
        return units == null ? Optional.empty() : Optional.ofNullable(units.get(unitId));
    }

    @Override
    public Optional<GuestId> guest(String unitId, DomainId domainId) {
        Map<DomainId, GuestId> ids = byUnit.get(unitId);
        return ids == null ? Optional.empty() : Optional.ofNullable(ids.get(domainId));
    }

    @Override
    public Map<String, DomainId> domainsOf(GuestId guest) {
        Map<String, DomainId> units = byGuest.get(guest);
        return units == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(units));
    }

    @Override
    public Map<DomainId, GuestId> domainsOn(String unitId) {
        Map<DomainId, GuestId> ids = byUnit.get(unitId);
        return ids == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(ids));
    }

    @Override
    public Set<GuestId> guests() {
        return Set.copyOf(byGuest.keySet());
    }

    int usedOn(String unitId) {
        Map<DomainId, GuestId> ids = byUnit.get(unitId);
        return ids == null ? 0 : ids.size();
    }

    /** Records the guest's domain id on the unit; on that unit neither may be taken already. */
    void put(GuestId guest, String unitId, DomainId did) {
        Map<DomainId, GuestId> ids = byUnit.computeIfAbsent(unitId, u -> new ConcurrentHashMap<>());
        GuestId holder = ids.get(did);
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
        ids.put(did, guest);
    }

    /**
     * Forgets the guest's domain id on the unit: the id-to-guest entry first, so
     * no reader sees an id that looks free still mapped (Xen XSA-399 order).
     */
    void remove(GuestId guest, String unitId, DomainId did) {
        Map<DomainId, GuestId> ids = byUnit.get(unitId);
        if (ids == null || !ids.remove(did, guest)) {
            throw new IllegalStateException("domain id " + did + " on unit " + unitId + " is not guest " + guest + "'s");
        }
        Map<String, DomainId> units = byGuest.get(guest);
        units.remove(unitId, did);
        if (units.isEmpty()) {
            byGuest.remove(guest, units);
        }
        if (ids.isEmpty()) {
            byUnit.remove(unitId, ids);
        }
    }

    void clear() {
        byUnit.clear();
        byGuest.clear();
    }
}
