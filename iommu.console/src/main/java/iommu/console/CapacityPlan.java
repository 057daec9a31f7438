package iommu.console;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import iommu.api.spi.UnitLoad;

/**
 * The inputs of the what-if planner of {@code iommu:capacity}: every unit as
 * it is now, when every guest has N IOMMU groups and all of them sit under one
 * unit (as one SR-IOV VF, alone in its group, per guest does for N=1). A group
 * is attached whole, so a unit's load ({@link UnitLoad#devices}) is the number
 * of its groups. On each unit
 * {@code usable = domainIds - reserved} and {@code fit = floor(groups / N)};
 * {@code perUnit = min(usable, fit)} is what the unit admits on its own ids
 * ({@link UnitLoad#admitsAlone}). What each strategy admits on these units is
 * the strategy's own answer ({@link iommu.api.spi.AllocationStrategy#admits}):
 * the console knows no placement rule.
 */
final class CapacityPlan {

    /** One unit's row: its inputs and what they give. */
    record UnitRow(UnitLoad load, long fit, long perUnit) {
        String unit() {
            return load.unit().unitId();
        }
    }

    /** What one strategy admits and how it computed that ({@link iommu.api.spi.CapacityEstimate}). */
    record StrategyRow(String strategy, long admits, String model) {
    }

    final int devicesPerGuest;
    final List<UnitLoad> loads;
    final List<UnitRow> units;
    final long fitSum;
    final long perUnitSum;

    CapacityPlan(List<UnitLoad> loads, int devicesPerGuest) {
        UnitLoad.requireDevicesPerGuest(devicesPerGuest);
        this.devicesPerGuest = devicesPerGuest;
        this.loads = List.copyOf(loads);
        List<UnitRow> rows = new ArrayList<>();
        long perUnit = 0;
        for (UnitLoad l : loads) {
            long alone = l.admitsAlone(devicesPerGuest);
            rows.add(new UnitRow(l, l.fit(devicesPerGuest), alone));
            perUnit += alone;
        }
        this.units = Collections.unmodifiableList(rows);
        this.fitSum = UnitLoad.fitSum(loads, devicesPerGuest);
        this.perUnitSum = perUnit;
    }
}
