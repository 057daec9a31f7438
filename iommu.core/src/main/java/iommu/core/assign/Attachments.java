package iommu.core.assign;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Every attached device, seen three ways: by device, by unit and by guest
 * (then unit). The three views change together, so they always agree.
 * Not thread-safe; called under the component's lock.
 */
public final class Attachments {

    private final Map<PciAddress, Attachment> byDevice = new TreeMap<>();
    private final Map<String, Set<PciAddress>> byUnit = new HashMap<>();
    private final Map<GuestId, Map<String, Set<PciAddress>>> byGuest = new TreeMap<>();

    public void record(Attachment a) {
        byDevice.put(a.device(), a);
        byUnit.computeIfAbsent(a.unitId(), u -> new TreeSet<>()).add(a.device());
        byGuest.computeIfAbsent(a.guest(), g -> new TreeMap<>())
                .computeIfAbsent(a.unitId(), u -> new TreeSet<>()).add(a.device());
    }

    /** Replaces a device's attachment by one on the same unit and guest with another domain id (a renumbering). */
    public void renumber(Attachment renumbered) {
        Attachment old = byDevice.get(renumbered.device());
        if (old == null || !old.unitId().equals(renumbered.unitId()) || !old.guest().equals(renumbered.guest())) {
            throw new IllegalStateException("renumbering " + renumbered + " does not match " + old);
        }
        byDevice.put(renumbered.device(), renumbered);
    }

    public void forget(PciAddress device) {
        Attachment a = byDevice.remove(device);
        if (a == null) {
            return;
        }
        Set<PciAddress> onUnit = byUnit.get(a.unitId());
        onUnit.remove(device);
        if (onUnit.isEmpty()) {
            byUnit.remove(a.unitId());
        }
        Map<String, Set<PciAddress>> units = byGuest.get(a.guest());
        Set<PciAddress> set = units.get(a.unitId());
        set.remove(device);
        if (set.isEmpty()) {
            units.remove(a.unitId());
        }
        if (units.isEmpty()) {
            byGuest.remove(a.guest());
        }
    }

    public Attachment get(PciAddress device) {
        return byDevice.get(device);
    }

    public boolean contains(PciAddress device) {
        return byDevice.containsKey(device);
    }

    /** Every attachment, by device (a view). */
    public Map<PciAddress, Attachment> byDevice() {
        return Collections.unmodifiableMap(byDevice);
    }

    public Collection<Attachment> all() {
        return Collections.unmodifiableCollection(byDevice.values());
    }

    public int size() {
        return byDevice.size();
    }

    /** The devices attached on the unit (a view). */
    public Set<PciAddress> onUnit(String unitId) {
        return Collections.unmodifiableSet(byUnit.getOrDefault(unitId, Set.of()));
    }

    /** The guest's devices on the unit (a view). */
    public Set<PciAddress> of(GuestId guest, String unitId) {
        return Collections.unmodifiableSet(byGuest.getOrDefault(guest, Map.of()).getOrDefault(unitId, Set.of()));
    }

    /** The guest's devices on every unit, by unit (a view). */
    public Map<String, Set<PciAddress>> of(GuestId guest) {
        return Collections.unmodifiableMap(byGuest.getOrDefault(guest, Map.of()));
    }

    /** The guests holding a device, by id. */
    public Set<GuestId> guests() {
        return Collections.unmodifiableSet(byGuest.keySet());
    }

    public boolean holds(GuestId guest) {
        return byGuest.containsKey(guest);
    }
}
