package iommu.console;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import iommu.api.DeviceAssignment;
import iommu.api.DomainId;
import iommu.api.Quoted;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;
import iommu.console.dto.AdmitsDTO;
import iommu.console.dto.CapacityDTO;
import iommu.console.dto.StrategyDTO;
import iommu.console.dto.StrategyListDTO;
import iommu.console.dto.UnitCapacityDTO;

/**
 * The strategies as the console shows them ({@code strategies}) and selects them ({@code strategy NAME}), and
 * the what-if planner
 * ({@code capacity}): every strategy answers for itself ({@link iommu.api.spi.AllocationStrategy#admits}).
 */
final class Planning {

    private final IommuCommands c;

    Planning(IommuCommands commands) {
        this.c = commands;
    }

    StrategyListDTO strategies() {
        DeviceAssignment da = c.assignment;
        Optional<String> bound = da == null ? Optional.empty() : da.strategy();
        List<UnitDescriptor> descriptors = da == null ? List.of() : descriptors(da.units());
        StrategyListDTO r = new StrategyListDTO();
        r.strategies = new ArrayList<>();
        Set<String> boundShown = new LinkedHashSet<>();
        for (IommuCommands.StrategyService s : c.strategyServices.get()) {
            StrategyDTO row = new StrategyDTO();
            row.name = s.name();
            row.bundle = s.bundle();
            row.ranking = s.ranking();
            row.bound = bound.isPresent() && bound.get().equals(s.name()) && boundShown.add(s.name());
            row.capacity = s.service().capacity(descriptors);
            row.description = CoreText.oneLine(s.service().description());
            r.strategies.add(row);
        }
        return r;
    }

    CapacityDTO capacity(String devicesPerGuest) {
        int n = Numbers.positiveInt("devices per guest", devicesPerGuest);
        DeviceAssignment da = c.requireAssignment();
        List<UnitDTO> units = da.units();
        List<UnitDescriptor> descriptors = descriptors(units);
        // A group is attached whole: a unit's load is its groups, not its devices.
        Map<String, Integer> groups = new HashMap<>();
        for (GroupDTO g : da.groups()) {
            groups.merge(g.unit, 1, Integer::sum);
        }
        List<UnitLoad> loads = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            loads.add(new UnitLoad(descriptors.get(i), groups.getOrDefault(units.get(i).id, 0)));
        }
        CapacityPlan plan = new CapacityPlan(loads, n);
        CapacityDTO r = new CapacityDTO();
        r.devicesPerGuest = n;
        r.units = new ArrayList<>();
        for (int i = 0; i < plan.units.size(); i++) {
            CapacityPlan.UnitRow row = plan.units.get(i);
            UnitCapacityDTO u = new UnitCapacityDTO();
            u.unit = row.unit();
            u.domainIds = row.load().unit().domainIdCount();
            u.reserved = units.get(i).reserved == null ? new int[0] : units.get(i).reserved.clone();
            u.usable = row.load().unit().usable();
            u.groups = row.load().groups();
            u.fit = row.fit();
            u.perUnit = row.perUnit();
            r.units.add(u);
        }
        r.strategies = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (IommuCommands.StrategyService s : c.strategyServices.get()) {
            if (seen.add(s.name())) {
                CapacityEstimate e = s.service().admits(plan.loads, n);
                AdmitsDTO a = new AdmitsDTO();
                a.strategy = s.name();
                a.admits = e.admits();
                a.model = CoreText.oneLine(e.model());
                r.strategies.add(a);
            }
        }
        return r;
    }

    static List<UnitDescriptor> descriptors(List<UnitDTO> units) {
        List<UnitDescriptor> out = new ArrayList<>();
        for (UnitDTO u : units) {
            Set<DomainId> reserved = new TreeSet<>();
            if (u.reserved != null) {
                for (int r : u.reserved) {
                    reserved.add(DomainId.of(r));
                }
            }
            out.add(new UnitDescriptor(u.id, u.domainIds, reserved));
        }
        return out;
    }

    /** {@code strategy NAME}: selects it, showing how a long renumbering progresses ({@link RenumberingTap}). */
    String switchTo(String name) {
        StrategySwitch sw = c.strategySwitch();
        String shown = Quoted.of(name == null ? null : name.trim());
        try (Progress progress = Progress.start(c.err.get(), "switching to strategy " + shown);
                RenumberingTap tap = RenumberingTap.open(c.bundleContext(), progress::status)) {
            return sw.switchTo(name);
        }
    }
}
