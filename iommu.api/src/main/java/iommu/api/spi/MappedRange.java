package iommu.api.spi;

/**
 * A run of a guest's I/O space that a unit's page table maps: {@code pages}
 * 4 KiB pages from I/O virtual address {@code iova} to host-physical
 * {@code hostAddress}, page after page.
 *
 * @since 1.1
 */
public record MappedRange(long iova, long hostAddress, long pages) {
    public MappedRange {
        if ((iova & 0xFFF) != 0 || (hostAddress & 0xFFF) != 0 || iova < 0 || hostAddress < 0) {
            throw new IllegalArgumentException(String.format(
                    "IOVA 0x%x to host 0x%x: expected 4 KiB-aligned, non-negative addresses", iova, hostAddress));
        }
        if (pages < 1) {
            throw new IllegalArgumentException(pages + " pages: expected at least 1");
        }
    }
}
