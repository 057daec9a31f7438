package iommu.console;

import iommu.console.dto.AdmitsDTO;
import iommu.console.dto.CapacityDTO;
import iommu.console.dto.UnitCapacityDTO;

/** {@code capacity}: the inputs per unit with their totals, then what each strategy admits. */
final class CapacityFormat extends Format<CapacityDTO> {

    CapacityFormat() {
        super(CapacityDTO.class);
    }

    @Override
    String text(CapacityDTO v) {
        int n = v.devicesPerGuest;
        StringBuilder sb = new StringBuilder();
        sb.append(n).append(n == 1 ? " group" : " groups").append(" per guest, all under one unit; fit = floor(groups / ")
                .append(n).append("), usable = domain ids - reserved\n");
        Table t = new Table("UNIT", "DIDS", "RESERVED", "USABLE", "GROUPS", "FIT", "PER-UNIT")
                .alignRight(1, 2, 3, 4, 5, 6);
        long groups = 0;
        long fit = 0;
        long perUnit = 0;
        for (UnitCapacityDTO r : v.units) {
            t.row(r.unit, r.domainIds, r.reserved.length, r.usable, r.groups, r.fit, r.perUnit);
            groups += r.groups;
            fit += r.fit;
            perUnit += r.perUnit;
        }
        t.row("total", null, null, null, groups, fit, perUnit);
        sb.append(t.render()).append("\n\n");
        Table s = new Table("STRATEGY", "ADMITS", "HOW").alignRight(1);
        for (AdmitsDTO r : v.strategies) {
            s.row(r.strategy, r.admits, r.model);
        }
        sb.append(v.strategies.isEmpty() ? "no allocation strategy is registered" : s.render());
        return sb.toString();
    }
}
