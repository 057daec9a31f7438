package iommu.api.spi;

import java.util.OptionalLong;

/**
 * The outcome of a device's DMA to an I/O virtual address: the host-physical
 * address, or a fault with the vendor's reason code, or (reason 0, which no
 * vendor uses for a fault) a DMA to the interrupt address range, which no
 * unit translates to memory ({@link #interruptRange}).
 */
public record Translation(long iova, OptionalLong hostAddress, int faultReason, String fault) {

    public static Translation hit(long iova, long hostAddress) {
        return new Translation(iova, OptionalLong.of(hostAddress), 0, null);
    }

    public static Translation fault(long iova, int reason, String description) {
        return new Translation(iova, OptionalLong.empty(), reason, description);
    }

    /**
     * The DMA went to the interrupt address range 0xfee00000-0xfeefffff: a
     * write there is an interrupt message (interrupt remapping), a read an
     * unsupported request; never memory (VT-d spec "Handling Requests to
     * Interrupt Address Range"; AMD-Vi likewise).
     *
     * @since 1.2
     */
    public static Translation interruptRange(long iova, boolean write) {
        return new Translation(iova, OptionalLong.empty(), 0, write
                ? "interrupt request: a DMA write to 0xfee00000-0xfeefffff is an interrupt message, never memory"
                : "interrupt address range: a DMA read of 0xfee00000-0xfeefffff is an unsupported request, never memory");
    }

    /** Not memory: a fault, or the interrupt address range. */
    public boolean isFault() {
        return hostAddress.isEmpty();
    }

    /** @since 1.2 */
    public boolean isInterruptRange() {
        return hostAddress.isEmpty() && faultReason == 0;
    }
}
