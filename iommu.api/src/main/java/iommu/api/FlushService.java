package iommu.api;

import org.osgi.annotation.versioning.ProviderType;

import iommu.api.dto.FlushReportDTO;

/**
 * Issues the invalidations that keep unit caches true to the context and
 * page tables, on exactly the units that may cache the entries concerned,
 * and waits until they completed.
 *
 * @throws InvalidationException from any method when an invalidation failed
 *         or timed out; what it protected must stay out of use
 */
@ProviderType
public interface FlushService {

    /** Invalidates everything the guest may have cached, on every unit where it holds a domain id. */
    FlushReportDTO flushGuest(GuestId guest);

    /** Invalidates a range of the guest's I/O pages on every unit where it holds a domain id. */
    FlushReportDTO flushPages(GuestId guest, long iova, long pages);

    /**
     * Invalidates after a change of one device's context entry on a unit: the
     * device's context-cache entry and every translation tagged with the
     * domain id the entry held.
     *
     * @param newlyPresent the entry went from not-present to present (units in
     *        caching mode cache not-present entries too)
     */
    FlushReportDTO flushDeviceContext(String unitId, PciAddress device, DomainId domainId, boolean newlyPresent);

    /**
     * As {@link #flushDeviceContext} for every change of one operation at
     * once: one batch per unit (VT-d: its descriptors, then one
     * invalidation-wait), each domain's translations invalidated once.
     */
    FlushReportDTO flushContextChanges(java.util.List<ContextChange> changes);

    /**
     * Invalidates every translation tagged with the domain id on the unit, e.g.
     * before an id whose earlier invalidation failed is handed back.
     */
    FlushReportDTO flushDomain(String unitId, DomainId domainId);
}
