package iommu.api.dto;

import org.osgi.dto.DTO;

/** One completed invalidation on one unit. */
public class InvalidationDTO extends DTO {
    /** The unit it was issued to. */
    public String unit;
    /** {@code device}, {@code domain}, {@code pages}, {@code device-tlb} (since 1.2) or {@code global}. */
    public String granularity;
    /** The domain id it targeted; null for global and device-tlb (a device-TLB is not tagged with one). */
    public Integer did;
    /** The device, for device-selective and device-TLB invalidations; else null. */
    public String bdf;
    /** First I/O virtual address, for page-selective and ranged device-TLB invalidations; else null. */
    @Address
    public Long iova;
    /** Number of 4 KiB pages, for page-selective and ranged device-TLB invalidations; else null. */
    public Long pages;
}
