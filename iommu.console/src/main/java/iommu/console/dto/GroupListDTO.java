package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

import iommu.api.dto.GroupDTO;

/** {@code groups}: every IOMMU group. JSON: the array of groups. */
public class GroupListDTO extends DTO {
    public List<GroupDTO> groups;
}
