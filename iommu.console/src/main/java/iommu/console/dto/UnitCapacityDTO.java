package iommu.console.dto;

import org.osgi.dto.DTO;

/** One unit's inputs to the planner. */
public class UnitCapacityDTO extends DTO {
    public String unit;
    public int domainIds;
    public int[] reserved;
    public int usable;
    /** The IOMMU groups the unit translates (a group is attached whole, so it is what a guest gets). */
    public int groups;
    /** floor(groups / devicesPerGuest). */
    public long fit;
    /** min(usable, fit). */
    public long perUnit;
}
