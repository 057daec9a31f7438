package iommu.console.dto;

import java.util.List;
import java.util.Map;

import org.osgi.dto.DTO;

import iommu.api.dto.GuestDeviceDTO;

/** {@code guest ID} and {@code attach}: a guest's devices and its domain id on each unit. */
public class GuestDetailDTO extends DTO {
    public int guest;
    public List<GuestDeviceDTO> devices;
    /** Unit id to the guest's domain id there. */
    public Map<String, Integer> dids;
}
