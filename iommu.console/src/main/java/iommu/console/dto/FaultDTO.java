package iommu.console.dto;

import org.osgi.dto.DTO;

/** Why a DMA faulted. */
public class FaultDTO extends DTO {
    public int reason;
    public String description;
}
