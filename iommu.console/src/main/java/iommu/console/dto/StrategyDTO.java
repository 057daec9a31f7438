package iommu.console.dto;

import org.osgi.dto.DTO;

/** One allocation strategy service. */
public class StrategyDTO extends DTO {
    public String name;
    public String bundle;
    public int ranking;
    public boolean bound;
    /** Its capacity() on the units present. */
    public long capacity;
    public String description;
}
