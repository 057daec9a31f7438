package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

import iommu.api.dto.DeviceDTO;

/** {@code devices}: every device. JSON: the array of devices. */
public class DeviceListDTO extends DTO {
    public List<DeviceDTO> devices;
}
