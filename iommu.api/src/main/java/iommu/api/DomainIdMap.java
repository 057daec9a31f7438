package iommu.api;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The map between guests and each unit's domain ids. Both directions are
 * constant-time lookups: no scan over domain ids or guests.
 *
 * <p>On each unit a domain id maps to at most one guest and a guest to at
 * most one domain id. Results are snapshots.
 */
@ProviderType
public interface DomainIdMap {

    /** The guest's domain id on the unit, if it has one there. */
    Optional<DomainId> domainId(GuestId guest, String unitId);

    /** The guest holding the domain id on the unit, if any. */
    Optional<GuestId> guest(String unitId, DomainId domainId);

    /** Every (unit id, domain id) pair of the guest: the units that may cache its translations. */
    Map<String, DomainId> domainsOf(GuestId guest);

    /** Every domain id in use on the unit, with its guest, in domain-id order. */
    Map<DomainId, GuestId> domainsOn(String unitId);

    /** Every guest holding at least one domain id. */
    Set<GuestId> guests();
}
