package iommu.console.dto;

import java.util.Map;

import org.osgi.dto.DTO;

/** One unit's domain ids, what the allocator did there and the invalidations it received. */
public class UnitStatsDTO extends DTO {
    public String unit;
    public int domainIds;
    public int[] reserved;
    public int usedDomainIds;
    public int freeDomainIds;
    /** allocations, releases, failures, quarantined. */
    public Map<String, Long> allocations;
    /** By granularity (device, domain, pages, global) and whatever else the unit counts. */
    public Map<String, Long> invalidations;
}
