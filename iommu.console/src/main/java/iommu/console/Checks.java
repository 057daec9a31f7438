package iommu.console;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import iommu.api.DeviceAssignment;
import iommu.api.dto.UnitDTO;

/**
 * The platform's consistency check ({@code verify}) and the picture of each unit's domain ids
 * ({@code occupancy}).
 */
final class Checks {

    private final IommuCommands c;

    Checks(IommuCommands commands) {
        this.c = commands;
    }

    String verify() {
        DeviceAssignment da = c.requireAssignment();
        List<String> problems = da.audit();
        int units = da.units().size();
        if (problems.isEmpty()) {
            return "ok: map, strategy bitmaps and " + units + (units == 1 ? " unit's" : " units'")
                    + " context entries agree";
        }
        throw new ProblemsException("verify: " + problems.size()
                + (problems.size() == 1 ? " disagreement" : " disagreements")
                + " between the map, the strategy's bitmaps and the units' context entries (listed above)", problems);
    }

    String occupancy() {
        DeviceAssignment da = c.requireAssignment();
        List<String> pictures = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            pictures.add(picture(u));
        }
        return pictures.isEmpty() ? "no IOMMU unit present" : String.join("\n\n", pictures);
    }

    String occupancy(String unit) {
        return picture(Matching.unit(c.requireAssignment().units(), unit));
    }

    private String picture(UnitDTO u) {
        BitSet reserved = new BitSet(u.domainIds);
        if (u.reserved != null) {
            for (int r : u.reserved) {
                reserved.set(r);
            }
        }
        BitSet used = new BitSet(u.domainIds);
        c.requireMap().domainsOn(u.id).keySet().forEach(d -> used.set(d.value()));
        return Occupancy.render(u.id, u.domainIds, reserved, used);
    }
}
