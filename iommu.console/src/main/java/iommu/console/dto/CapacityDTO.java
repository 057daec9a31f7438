package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code capacity}: the planner's inputs per unit and what each strategy admits. */
public class CapacityDTO extends DTO {
    public int devicesPerGuest;
    public List<UnitCapacityDTO> units;
    public List<AdmitsDTO> strategies;
}
