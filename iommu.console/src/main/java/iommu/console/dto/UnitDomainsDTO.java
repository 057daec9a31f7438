package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code domains UNIT}: the domain ids in use on one unit. */
public class UnitDomainsDTO extends DTO {
    public String unit;
    public int domainIds;
    public int[] reserved;
    public List<DomainDTO> domains;
}
