package iommu.alloc.perunit;

import java.util.Collection;

import org.osgi.service.component.annotations.Component;

import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

/**
 * One domain-id space per unit: a guest gets an id from the unit of each
 * device it owns, so the platform holds as many guests as all units together.
 */
@Component(property = AllocationStrategy.NAME + "=" + PerUnitStrategy.NAME)
public class PerUnitStrategy implements AllocationStrategy {

    static final String NAME = "per-unit";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "one domain-id space per unit; capacity is the sum over units";
    }

    @Override
    public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> current) {
        return new PerUnitAllocator(units, current);
    }

    @Override
    public long capacity(Collection<UnitDescriptor> units) {
        return units.stream().mapToLong(UnitDescriptor::usable).sum();
    }

    /**
     * A guest of N devices all under one unit takes one id of that unit only,
     * so each unit admits on its own what its ids and its devices allow.
     */
    @Override
    public CapacityEstimate admits(Collection<UnitLoad> units, int devicesPerGuest) {
        UnitLoad.requireDevicesPerGuest(devicesPerGuest);
        long admits = units.stream().mapToLong(u -> u.admitsAlone(devicesPerGuest)).sum();
        return new CapacityEstimate(admits, "sum over units of min(usable, floor(groups / " + devicesPerGuest + "))");
    }
}
