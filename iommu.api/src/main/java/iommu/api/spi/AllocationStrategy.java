package iommu.api.spi;

import java.util.Collection;
import java.util.List;

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

    /**
     * The what-if planner's question ({@code iommu:capacity}): how many guests
     * this strategy admits on these units when every guest has
     * {@code devicesPerGuest} IOMMU groups, all under one unit. The default knows
     * no placement rule: it bounds {@link #capacity} by the guests the groups
     * can make, {@code min(capacity, sum over units of floor(groups / N))};
     * a strategy that knows better says so.
     *
     * @param units each unit with the groups it translates
     * @param devicesPerGuest N, at least 1
     * @since 1.2
     */
    default CapacityEstimate admits(Collection<UnitLoad> units, int devicesPerGuest) {
        UnitLoad.requireDevicesPerGuest(devicesPerGuest);
        List<UnitDescriptor> descriptors = units.stream().map(UnitLoad::unit).toList();
        long capacity = capacity(descriptors);
        long fit = UnitLoad.fitSum(units, devicesPerGuest);
        return new CapacityEstimate(Math.min(capacity, fit), "min(its capacity() " + capacity
                + ", sum over units of floor(groups / " + devicesPerGuest + ") = " + fit
                + "); placement rules not given by the strategy");
    }
}
