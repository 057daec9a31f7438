package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code capacity}: the planner's inputs per unit and what each strategy admits. */
public class CapacityDTO extends DTO {
    /** N of {@code --devices-per-guest}: the IOMMU groups each guest gets. */
    public int devicesPerGuest;
    public List<UnitCapacityDTO> units;
    public List<AdmitsDTO> strategies;
}
