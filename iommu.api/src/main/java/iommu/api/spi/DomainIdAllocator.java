package iommu.api.spi;

import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;

/**
 * The live state of a bound strategy: which domain ids are in use on which
 * unit. The platform calls it under its own lock, one call at a time.
 */
@ConsumerType
public interface DomainIdAllocator {

    /**
     * The assignments this allocator numbered differently from the ones it was
     * opened with, each to its new domain id; empty when it adopted them as
     * they are. The allocator's state already reflects the new numbering; the
     * platform reprograms the units and then calls {@link #commitRenumbering()}.
     */
    Map<Assignment, DomainId> renumbering();

    /** Called once the renumbering is on the units and the old ids were invalidated. */
    void commitRenumbering();

    /**
     * A domain id for the guest on the unit; the guest has none there yet.
     *
     * @throws DomainIdsExhaustedException when none is free, naming the unit and capacity
     */
    DomainId allocate(GuestId guest, String unitId);

    /**
     * The guest gives back its domain id on the unit, after every cache entry
     * tagged with it was invalidated there.
     */
    void release(GuestId guest, String unitId, DomainId domainId);

    /** A unit appeared. */
    void addUnit(UnitDescriptor unit);

    /** A unit went away; no guest holds an id on it any more. */
    void removeUnit(String unitId);

    /** The ids in use on the unit (reserved ones excluded), a copy. */
    BitSet inUse(String unitId);

    /** How many more guests could get an id on the unit now. */
    int free(String unitId);

    /**
     * The rules of this strategy that the assignments break, beyond what the
     * platform checks itself (one guest per id and one id per guest on each
     * unit, the bitmaps agreeing with the map): one line each, naming the
     * guest, the units and the rule; empty when they keep them. The platform's
     * audit ({@code iommu:verify}) reports these lines with its own.
     *
     * @param assignments every guest's domain id on every unit, as the platform holds them
     * @since 1.2
     */
    default List<String> check(Collection<Assignment> assignments) {
        return List.of();
    }
}
