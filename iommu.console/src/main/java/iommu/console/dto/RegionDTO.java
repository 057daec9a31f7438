package iommu.console.dto;

import iommu.api.dto.Address;
import org.osgi.dto.DTO;

/** One reserved range: first and last byte, and its type as Linux's reserved_regions names it. */
public class RegionDTO extends DTO {
    @Address
    public long first;
    @Address
    public long last;
    /** {@code msi}, {@code direct} or {@code direct-relaxable}. */
    public String type;
}
