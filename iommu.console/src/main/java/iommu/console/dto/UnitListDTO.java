package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

import iommu.api.dto.UnitDTO;

/** {@code units}: the units, in id order. JSON: the array of units. */
public class UnitListDTO extends DTO {
    public List<UnitDTO> units;
}
