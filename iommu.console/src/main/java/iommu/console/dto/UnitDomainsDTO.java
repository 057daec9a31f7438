package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code domains UNIT}: the domain ids in use on one unit. */
public class UnitDomainsDTO extends DTO {
    public String unit;
    public int domainIds;
    public int[] reserved;
    /** The host domain's id, among the reserved ones; null when the unit has no host domain. */
    public Integer hostDomainId;
    public List<DomainDTO> domains;
}
