package iommu.console.dto;

import java.util.Map;

import org.osgi.dto.DTO;

/** {@code ctx BDF}: a device's context entry as its unit holds it. */
public class ContextEntryDTO extends DTO {
    public String bdf;
    public String unit;
    /** Null when the host owns the device. */
    public Integer guest;
    /** {@code IommuUnit.describeContext(device)}. */
    public Map<String, Object> context;
    /**
     * {@code SSSS:BB:DD.F}: the requester id the unit sees for the device's DMA (the last of
     * {@code IommuUnit.dmaAliases}); null when the unit does not claim it.
     */
    public String requesterId;
}
