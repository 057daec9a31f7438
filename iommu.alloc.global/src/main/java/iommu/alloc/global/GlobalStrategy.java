package iommu.alloc.global;

import java.util.Collection;
import java.util.List;

import org.osgi.service.component.annotations.Component;

import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

/**
 * The historic design: one domain-id space shared by every unit, sized by the
 * smallest; a guest has the same id on every unit, and the platform holds at
 * most that many guests with assigned devices.
 */
@Component(property = AllocationStrategy.NAME + "=" + GlobalStrategy.NAME)
public class GlobalStrategy implements AllocationStrategy {

    static final String NAME = "global";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "one domain-id space shared by all units; capacity is the smallest unit's";
    }

    @Override
    public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> current) {
        return new GlobalAllocator(units, current);
    }

    @Override
    public long capacity(Collection<UnitDescriptor> units) {
        return GlobalAllocator.sharedSpace(units).usable();
    }

    /**
     * The shared space bounds the guests, and so do the devices: a guest of N
     * devices under one unit takes N of that unit's devices, whatever its id.
     */
    @Override
    public CapacityEstimate admits(Collection<UnitLoad> units, int devicesPerGuest) {
        UnitLoad.requireDevicesPerGuest(devicesPerGuest);
        List<UnitDescriptor> descriptors = units.stream().map(UnitLoad::unit).toList();
        long shared = capacity(descriptors);
        long fit = UnitLoad.fitSum(units, devicesPerGuest);
        return new CapacityEstimate(Math.min(shared, fit), "min(shared ids " + shared
                + ", sum over units of floor(groups / " + devicesPerGuest + ") = " + fit + ")");
    }
}
