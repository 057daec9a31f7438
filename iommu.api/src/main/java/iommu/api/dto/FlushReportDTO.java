package iommu.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** What a flush issued, in issue order; every invalidation listed has completed. */
public class FlushReportDTO extends DTO {
    public List<InvalidationDTO> invalidations;
}
