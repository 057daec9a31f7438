package iommu.api.spi;

import java.util.Collection;
import java.util.Objects;

/**
 * A unit as the capacity planner sees it: what the strategy knows of it and
 * how many IOMMU groups it translates (a group is given to a guest whole, so
 * groups, not devices, are what guests take).
 *
 * @since 1.2
 */
public record UnitLoad(UnitDescriptor unit, int groups) {

    public UnitLoad {
        Objects.requireNonNull(unit, "unit");
        if (groups < 0) {
            throw new IllegalArgumentException("unit " + unit.unitId() + ": " + groups
                    + " groups out of range: expected 0 or more");
        }
    }

    /** The planner's N, checked: at least one group a guest. */
    public static int requireDevicesPerGuest(int devicesPerGuest) {
        if (devicesPerGuest < 1) {
            throw new IllegalArgumentException("devices per guest " + devicesPerGuest + " out of range: expected 1 or more");
        }
        return devicesPerGuest;
    }

    /** How many guests of {@code devicesPerGuest} groups, all under this unit, its groups make. */
    public long fit(int devicesPerGuest) {
        return groups / devicesPerGuest;
    }

    /** What guests of {@code devicesPerGuest} groups each this unit admits on its own ids: min(usable, fit). */
    public long admitsAlone(int devicesPerGuest) {
        return Math.min(unit.usable(), fit(devicesPerGuest));
    }

    /** The sum over units of {@link #fit}: no strategy admits more guests than the groups make. */
    public static long fitSum(Collection<UnitLoad> units, int devicesPerGuest) {
        return units.stream().mapToLong(u -> u.fit(devicesPerGuest)).sum();
    }
}
