package iommu.api.spi;

import java.util.Collection;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A way of handing out domain ids, registered as a service with the
 * {@link #NAME} property. The service itself is stateless: the platform opens
 * a {@link DomainIdAllocator} when it binds the strategy, handing it the
 * current assignments, and the allocator holds the bitmaps from then on.
 */
@ConsumerType
public interface AllocationStrategy {

    /** Service property naming the strategy; the platform's configuration selects by it. */
    String NAME = "name";

    /** The strategy's name, equal to its {@link #NAME} service property. */
    String name();

    /** One line for listings. */
    String description();

    /**
     * Opens an allocator over the units that rebuilds its state from the
     * current assignments. When those do not fit the strategy's rules, the
     * allocator's {@link DomainIdAllocator#renumbering()} says which
     * assignments get which new domain id.
     *
     * @throws StrategyRefusedException when the current assignments cannot be
     *         held under this strategy at all (too many guests)
     */
    DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> current);

    /**
     * How many guests with one device each could hold a domain id at once
     * on these units, ignoring which device sits under which unit.
     */
    long capacity(Collection<UnitDescriptor> units);
}
