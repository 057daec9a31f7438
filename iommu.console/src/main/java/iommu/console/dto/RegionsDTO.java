package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code regions BDF}: the device's reserved I/O virtual address ranges, as its unit reports them. */
public class RegionsDTO extends DTO {
    public String bdf;
    public String unit;
    public List<RegionDTO> regions;
}
