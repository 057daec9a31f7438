package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

import iommu.api.dto.GuestDTO;

/** {@code guests}: every guest holding devices. JSON: the array of guests. */
public class GuestListDTO extends DTO {
    public List<GuestDTO> guests;
}
