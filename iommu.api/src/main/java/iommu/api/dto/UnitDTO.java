package iommu.api.dto;

import org.osgi.dto.DTO;

/** One IOMMU unit and its domain-id usage. */
public class UnitDTO extends DTO {
    /** The unit id, e.g. {@code dmar0}. */
    public String id;
    /** {@code vt-d}, {@code amd-vi}, ... */
    public String vendor;
    /** The PCI segment the unit serves. */
    public int segment;
    /** The physical address of its register set. */
    @Address
    public long registerBase;
    /** Whether it serves every device of its segment no other unit claims. */
    public boolean includePciAll;
    /** How many domain ids it supports (NR_DID). */
    public int domainIds;
    /** The domain ids it never hands out to guests: its own, and the host domain's. */
    public int[] reserved;
    /** The host domain's id there, among {@link #reserved}; null when it has no host domain (since 1.2). */
    public Integer hostDomainId;
    /** How many domain ids are held by guests now. */
    public int usedDomainIds;
    /** How many devices it translates. */
    public int devices;
}
