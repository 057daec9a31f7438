package iommu.console;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import iommu.console.dto.StatsDTO;
import iommu.console.dto.UnitStatsDTO;

/** {@code stats}: a row per unit, then the other counters the units report. */
final class StatsFormat extends Format<StatsDTO> {

    static final List<String> GRANULARITIES = List.of("device", "domain", "pages", "device-tlb", "global");

    StatsFormat() {
        super(StatsDTO.class);
    }

    @Override
    String text(StatsDTO v) {
        if (v.units.isEmpty()) {
            return "no IOMMU unit present";
        }
        Table t = new Table("UNIT", "DIDS", "RESERVED", "USED", "FREE", "ALLOCATED", "RELEASED", "FAILED",
                "QUARANTINED", "INV-DEVICE", "INV-DOMAIN", "INV-PAGES", "INV-DEVTLB", "INV-GLOBAL")
                .alignRight(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
        StringBuilder more = new StringBuilder();
        for (UnitStatsDTO r : v.units) {
            Map<String, Long> c = r.invalidations;
            Map<String, Long> a = r.allocations;
            t.row(r.unit, r.domainIds, r.reserved.length, r.usedDomainIds, r.freeDomainIds, a.getOrDefault("allocations", 0L),
                    a.getOrDefault("releases", 0L), a.getOrDefault("failures", 0L), a.getOrDefault("quarantined", 0L),
                    c.getOrDefault("device", 0L), c.getOrDefault("domain", 0L), c.getOrDefault("pages", 0L),
                    c.getOrDefault("device-tlb", 0L), c.getOrDefault("global", 0L));
            StringJoiner other = new StringJoiner("  ");
            c.forEach((k, n) -> {
                if (!GRANULARITIES.contains(k) && n != 0) {
                    other.add(k + "=" + n);
                }
            });
            if (other.length() > 0) {
                more.append('\n').append(r.unit).append("  ").append(other);
            }
        }
        String s = t.render();
        if (more.length() > 0) {
            s += "\nother counters the units report (non-zero):" + more;
        }
        return s;
    }

    @Override
    Object json(StatsDTO v) {
        return v.units;
    }
}
