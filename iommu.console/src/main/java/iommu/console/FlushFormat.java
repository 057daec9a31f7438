package iommu.console;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

import iommu.api.dto.InvalidationDTO;
import iommu.console.dto.FlushDTO;

/** {@code flush}: a summary per unit and granularity, then the invalidations. */
final class FlushFormat extends Format<FlushDTO> {

    FlushFormat() {
        super(FlushDTO.class);
    }

    @Override
    String text(FlushDTO v) {
        if (v.invalidations.isEmpty()) {
            return "guest " + v.guest + " holds no domain id: nothing to invalidate";
        }
        Map<String, Map<String, Integer>> perUnit = new LinkedHashMap<>();
        for (InvalidationDTO i : v.invalidations) {
            perUnit.computeIfAbsent(i.unit, u -> new LinkedHashMap<>()).merge(i.granularity, 1, Integer::sum);
        }
        StringJoiner summary = new StringJoiner("; ");
        perUnit.forEach((u, g) -> {
            StringJoiner s = new StringJoiner(", ");
            g.forEach((gran, n) -> s.add(gran + "=" + n));
            summary.add(u + ": " + s);
        });
        Table t = new Table("UNIT", "GRANULARITY", "DID", "BDF", "IOVA", "PAGES").alignRight(2, 5);
        for (InvalidationDTO i : v.invalidations) {
            t.row(i.unit, i.granularity, i.did, i.bdf, i.iova == null ? null : Numbers.hex(i.iova), i.pages);
        }
        int n = v.invalidations.size();
        return "guest " + v.guest + ": " + n + (n == 1 ? " invalidation" : " invalidations") + " completed on "
                + perUnit.size() + (perUnit.size() == 1 ? " unit" : " units") + " (" + summary + ")\n" + t.render();
    }
}
