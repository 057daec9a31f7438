package iommu.api.spi;

import java.util.OptionalLong;

/**
 * The outcome of a device's DMA to an I/O virtual address: the host-physical
 * address, or a fault with the vendor's reason code.
 */
public record Translation(long iova, OptionalLong hostAddress, int faultReason, String fault) {

    public static Translation hit(long iova, long hostAddress) {
        return new Translation(iova, OptionalLong.of(hostAddress), 0, null);
    }

    public static Translation fault(long iova, int reason, String description) {
        return new Translation(iova, OptionalLong.empty(), reason, description);
    }

    public boolean isFault() {
        return hostAddress.isEmpty();
    }
}
