package iommu.console.dto;

import iommu.api.dto.Address;
import java.util.List;
import java.util.Map;

import org.osgi.dto.DTO;

/** {@code unit ID}: one unit, its usage and its registers decoded by name. */
public class UnitDetailDTO extends DTO {
    public String id;
    public String vendor;
    public int segment;
    @Address
    public long registerBase;
    public boolean includePciAll;
    public int domainIds;
    public int[] reserved;
    public int usedDomainIds;
    public int freeDomainIds;
    public int devices;
    public int attachedDevices;
    /** The guests holding a domain id here, in id order. */
    public List<Integer> guests;
    /** {@code IommuUnit.describe()}. */
    public Map<String, Object> decoded;
}
