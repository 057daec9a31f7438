package iommu.api.dto;

import org.osgi.dto.DTO;

/** A device owned by a guest, with the domain id that tags its translations. */
public class GuestDeviceDTO extends DTO {
    /** {@code SSSS:BB:DD.F}. */
    public String bdf;
    /** The id of the unit translating it. */
    public String unit;
    /** The guest's domain id on that unit. */
    public int did;
}
