package iommu.api;

/**
 * A domain id (DID): the tag an IOMMU unit puts on every context-cache and
 * IOTLB entry, 0..65535. Which ids a unit supports and reserves is the unit's
 * own ({@link iommu.api.spi.IommuUnit#domainIdCount()}).
 */
public record DomainId(int value) implements Comparable<DomainId> {

    public static final int MAX = 0xFFFF;

    public DomainId {
        if (value < 0 || value > MAX) {
            throw new IllegalArgumentException("domain id " + value + " out of range: expected 0.." + MAX);
        }
    }

    public static DomainId of(int value) {
        return new DomainId(value);
    }

    @Override
    public int compareTo(DomainId o) {
        return Integer.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Integer.toString(value);
    }
}
