package iommu.console.dto;

import iommu.api.dto.Address;
import org.osgi.dto.DTO;

/** {@code translate BDF IOVA}: the DMA's host address, or its fault (a fault is a result). */
public class TranslationDTO extends DTO {
    public String bdf;
    public String unit;
    /** Null when the host owns the device. */
    public Integer guest;
    /** Whether the device's entry is the host domain's (its DMA then reaches the identity address). */
    public boolean hostDomain;
    /** Whether the device is in quarantine (detached, not yet released to the host: no entry, its DMA faults). */
    public boolean quarantined;
    /** The entry's domain id; null when the device has none. */
    public Integer did;
    @Address
    public long iova;
    /** Null on a fault. */
    @Address
    public Long hostAddress;
    /** Null unless the DMA faulted. */
    public FaultDTO fault;
}
