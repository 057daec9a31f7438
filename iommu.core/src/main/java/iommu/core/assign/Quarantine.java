package iommu.core.assign;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.osgi.service.log.Logger;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.core.assign.AllocationCounters.Counter;

/**
 * How a domain id goes back to its allocator: only once its unit's caches
 * for it were invalidated (DESIGN 7.2). When that invalidation fails, the id
 * is held here, still allocated to nobody, until a later flush of it
 * succeeds ({@link #retry}). Not thread-safe; called under the component's lock.
 */
public final class Quarantine {

    private final FlushService flush;
    private final AllocationCounters counters;
    private final Logger log;
    /** unit id -> held id -> the guest that last held it. */
    private final Map<String, Map<DomainId, GuestId>> held = new TreeMap<>();

    public Quarantine(FlushService flush, AllocationCounters counters, Logger log) {
        this.flush = flush;
        this.counters = counters;
        this.log = log;
    }

    /** Gives back an id whose invalidation completed already (a detach's batch flush). */
    public void releaseFlushed(DomainIdAllocator allocator, GuestId guest, String unitId, DomainId did) {
        if (allocator != null) {
            allocator.release(guest, unitId, did);
            counters.count(unitId, Counter.RELEASES);
        }
    }

    /** Invalidates the id on its unit, then gives it back; when the invalidation fails, holds it instead. */
    public void releaseOrHold(DomainIdAllocator allocator, GuestId guest, String unitId, DomainId did) {
        try {
            flush.flushDomain(unitId, did);
        } catch (RuntimeException e) {
            held.computeIfAbsent(unitId, u -> new TreeMap<>()).put(did, guest);
            counters.count(unitId, Counter.QUARANTINED);
            log.warn("unit {}: domain id {} quarantined until its invalidation succeeds: {}", unitId, did, e.getMessage());
            return;
        }
        releaseFlushed(allocator, guest, unitId, did);
    }

    /** Invalidates each held id again on the units present; those that succeed go back to the allocator. */
    public void retry(DomainIdAllocator allocator, Set<String> presentUnits) {
        if (held.isEmpty() || allocator == null) {
            return;
        }
        for (String unitId : List.copyOf(held.keySet())) {
            Map<DomainId, GuestId> ids = held.get(unitId);
            for (DomainId did : List.copyOf(ids.keySet())) {
                GuestId guest = ids.get(did);
                if (!presentUnits.contains(unitId)) {
                    continue;
                }
                try {
                    flush.flushDomain(unitId, did);
                } catch (RuntimeException e) {
                    continue;
                }
                ids.remove(did);
                allocator.release(guest, unitId, did);
                counters.count(unitId, Counter.RELEASES);
                log.info("unit {}: quarantined domain id {} invalidated and released", unitId, did);
            }
            if (ids.isEmpty()) {
                held.remove(unitId);
            }
        }
    }

    /** Whether the guest's previous id on the unit is held (the guest cannot get one there until it is released). */
    public boolean holdsGuest(String unitId, GuestId guest) {
        return held.getOrDefault(unitId, Map.of()).containsValue(guest);
    }

    public boolean holdsUnit(String unitId) {
        return held.containsKey(unitId);
    }

    public boolean holds(String unitId, DomainId did) {
        return held.getOrDefault(unitId, Map.of()).containsKey(did);
    }

    /** The ids held on the unit. */
    public Set<DomainId> ids(String unitId) {
        return Set.copyOf(held.getOrDefault(unitId, Map.of()).keySet());
    }

    /** A renumbering moved a held id: it stays held under its new number. Whether the id was held. */
    public boolean renumber(Assignment old, DomainId next) {
        Map<DomainId, GuestId> ids = held.get(old.unitId());
        if (ids != null && ids.remove(old.domainId(), old.guest())) {
            ids.put(next, old.guest());
            return true;
        }
        return false;
    }

    /** Every held id as an assignment to its last guest: they are not free. */
    public List<Assignment> assignments() {
        List<Assignment> list = new ArrayList<>();
        held.forEach((unitId, ids) -> ids.forEach((did, guest) -> list.add(new Assignment(guest, unitId, did))));
        return list;
    }
}
