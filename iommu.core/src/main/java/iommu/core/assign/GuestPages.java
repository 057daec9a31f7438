package iommu.core.assign;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

import iommu.api.GuestId;
import iommu.api.spi.IommuUnit;

/**
 * Every guest's mapped I/O pages, as the platform records them: written to
 * each unit where the guest holds a domain id, and kept while it holds none.
 * Not thread-safe; called under the component's lock.
 */
public final class GuestPages {

    private final Map<GuestId, GuestMappings> byGuest = new HashMap<>();

    /** The guest's pages, or null when it maps none. */
    public GuestMappings of(GuestId guest) {
        return byGuest.get(guest);
    }

    public void add(GuestId guest, long iova, long hostAddress, long pages) {
        byGuest.computeIfAbsent(guest, g -> new GuestMappings()).add(iova, hostAddress, pages);
    }

    public void remove(GuestId guest, long iova, long pages) {
        GuestMappings m = byGuest.get(guest);
        if (m == null) {
            return;
        }
        m.remove(iova, pages);
        if (m.isEmpty()) {
            byGuest.remove(guest);
        }
    }

    /** Replaces what is recorded of the guest (a journal's or a unit's record is taken). */
    public void put(GuestId guest, GuestMappings mappings) {
        byGuest.put(guest, mappings);
    }

    /** Every guest's pages (a view). */
    public Map<GuestId, GuestMappings> all() {
        return Collections.unmodifiableMap(byGuest);
    }

    /** Writes the guest's pages on the unit, which may have them already (kept tables) or have lost a later unmap. */
    public void replay(GuestId guest, IommuUnit unit) {
        GuestMappings m = byGuest.get(guest);
        if (m != null) {
            for (GuestMappings.Run run : m.runs()) {
                unit.unmap(guest, run.iova(), run.pages());
                unit.map(guest, run.iova(), run.hostAddress(), run.pages());
            }
        }
    }

    /** Takes the guest's pages off the unit (it no longer holds a domain id there); the record stays. */
    public void drop(GuestId guest, IommuUnit unit) {
        GuestMappings m = byGuest.get(guest);
        if (m != null && unit != null) {
            for (GuestMappings.Run run : m.runs()) {
                unit.unmap(guest, run.iova(), run.pages());
            }
        }
    }
}
