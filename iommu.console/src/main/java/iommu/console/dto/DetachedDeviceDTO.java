package iommu.console.dto;

import org.osgi.dto.DTO;

/** A device {@code detach} took from its guest: the guest, the unit and the domain id it had. */
public class DetachedDeviceDTO extends DTO {
    public String bdf;
    /** Null when no guest held it. */
    public Integer guest;
    public String unit;
    public Integer did;
}
