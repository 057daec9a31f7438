package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code stats}. JSON: the array of units. */
public class StatsDTO extends DTO {
    public List<UnitStatsDTO> units;
}
