package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

import iommu.api.dto.InvalidationDTO;

/** {@code flush GUEST [IOVA PAGES]}: the invalidations issued, all completed. */
public class FlushDTO extends DTO {
    public int guest;
    public List<InvalidationDTO> invalidations;
}
