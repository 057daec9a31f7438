package iommu.console;

import iommu.console.dto.StrategyDTO;
import iommu.console.dto.StrategyListDTO;

/** {@code strategies}: a row per strategy service. */
final class StrategiesFormat extends Format<StrategyListDTO> {

    StrategiesFormat() {
        super(StrategyListDTO.class);
    }

    @Override
    String text(StrategyListDTO v) {
        if (v.strategies.isEmpty()) {
            return "no allocation strategy is registered";
        }
        Table t = new Table("NAME", "BUNDLE", "RANKING", "BOUND", "CAPACITY", "DESCRIPTION").alignRight(2, 4);
        for (StrategyDTO s : v.strategies) {
            t.row(s.name, s.bundle, s.ranking, s.bound ? "yes" : "no", s.capacity, s.description);
        }
        return t.render();
    }

    @Override
    Object json(StrategyListDTO v) {
        return v.strategies;
    }
}
