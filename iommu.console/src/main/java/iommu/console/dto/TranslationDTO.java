package iommu.console.dto;

import iommu.api.dto.Address;
import org.osgi.dto.DTO;

/** {@code translate BDF IOVA}: the DMA's host address, or its fault (a fault is a result). */
public class TranslationDTO extends DTO {
    public String bdf;
    public String unit;
    public Integer guest;
    public Integer did;
    @Address
    public long iova;
    /** Null on a fault. */
    @Address
    public Long hostAddress;
    /** Null unless the DMA faulted. */
    public FaultDTO fault;
}
