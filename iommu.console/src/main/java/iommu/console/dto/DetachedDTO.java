package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code detach BDF...}: each device detached and what it was attached to. */
public class DetachedDTO extends DTO {
    public List<DetachedDeviceDTO> devices;
}
