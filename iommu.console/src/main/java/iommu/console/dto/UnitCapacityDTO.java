package iommu.console.dto;

import org.osgi.dto.DTO;

/** One unit's inputs to the planner. */
public class UnitCapacityDTO extends DTO {
    public String unit;
    public int domainIds;
    public int[] reserved;
    public int usable;
    public int devices;
    /** floor(devices / devicesPerGuest). */
    public long fit;
    /** min(usable, fit). */
    public long perUnit;
}
