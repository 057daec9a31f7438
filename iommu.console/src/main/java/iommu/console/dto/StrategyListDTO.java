package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code strategies}. JSON: the array of strategies. */
public class StrategyListDTO extends DTO {
    public List<StrategyDTO> strategies;
}
