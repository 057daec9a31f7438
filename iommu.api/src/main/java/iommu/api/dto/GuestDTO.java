package iommu.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** A guest and the devices it owns. */
public class GuestDTO extends DTO {
    /** The guest id. */
    public int guest;
    /** Its devices, in PCI address order. */
    public List<GuestDeviceDTO> devices;
}
