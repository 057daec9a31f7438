package iommu.console;

import java.util.ArrayList;
import java.util.List;

/**
 * The what-if planner of {@code iommu:capacity}: how many guests the platform
 * as it is now admits under each strategy, when every guest has N devices
 * and all of them sit under one unit (as one SR-IOV VF per guest does for N=1).
 *
 * <p>On each unit, {@code usable = domainIds - reserved} and
 * {@code fit = floor(devices / N)} guests could get their devices there.
 * <ul>
 * <li>per-unit: a guest takes one id of its own unit, so the platform admits
 * {@code sum over units of min(usable, fit)};</li>
 * <li>global: a guest takes the same id on every unit, from one shared space
 * as large as the smallest unit's usable ids, so it admits
 * {@code min(shared, sum over units of fit)}.</li>
 * </ul>
 */
final class CapacityPlan {

    /** One unit's inputs. */
    record UnitInput(String unit, int domainIds, int reserved, int devices) {
        int usable() {
            return Math.max(0, domainIds - reserved);
        }
    }

    /** One unit's row: its inputs and what they give. */
    record UnitRow(UnitInput input, long fit, long perUnit) {
    }

    /** What one strategy admits and how that was computed. */
    record StrategyRow(String strategy, long admits, String model) {
    }

    final int devicesPerGuest;
    final List<UnitRow> units = new ArrayList<>();
    final long fitSum;
    final long perUnitSum;
    final long smallestUsable;

    CapacityPlan(List<UnitInput> inputs, int devicesPerGuest) {
        if (devicesPerGuest < 1) {
            throw new IllegalArgumentException("devices per guest " + devicesPerGuest + " out of range: expected 1 or more");
        }
        this.devicesPerGuest = devicesPerGuest;
        long fits = 0;
        long perUnit = 0;
        long smallest = inputs.isEmpty() ? 0 : Long.MAX_VALUE;
        for (UnitInput in : inputs) {
            long fit = in.devices() / devicesPerGuest;
            long admits = Math.min(in.usable(), fit);
            units.add(new UnitRow(in, fit, admits));
            fits += fit;
            perUnit += admits;
            smallest = Math.min(smallest, in.usable());
        }
        this.fitSum = fits;
        this.perUnitSum = perUnit;
        this.smallestUsable = smallest;
    }

    /** per-unit: sum over units of min(usable, floor(devices / N)). */
    StrategyRow perUnit(String name) {
        return new StrategyRow(name, perUnitSum,
                "sum over units of min(usable, floor(devices / " + devicesPerGuest + "))");
    }

    /**
     * global: min(shared, sum over units of floor(devices / N)), the shared space
     * being what the strategy says it offers on these units (its capacity()).
     */
    StrategyRow global(String name, long shared) {
        return new StrategyRow(name, Math.min(shared, fitSum), "min(shared ids " + shared
                + ", sum over units of floor(devices / " + devicesPerGuest + ") = " + fitSum + ")");
    }

    /** A strategy whose placement rules the console does not know: its own capacity(), devices as a bound. */
    StrategyRow other(String name, long capacity) {
        return new StrategyRow(name, Math.min(capacity, fitSum), "min(its capacity() " + capacity
                + ", sum over units of floor(devices / " + devicesPerGuest + ") = " + fitSum
                + "); placement rules unknown to the console");
    }
}
