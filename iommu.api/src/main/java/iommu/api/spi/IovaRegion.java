package iommu.api.spi;

import java.util.Objects;

/**
 * A range of a device's I/O virtual addresses that is not the guest's to
 * map, as Linux reports them per device ({@code iommu_get_resv_regions};
 * {@code /sys/kernel/iommu_groups/N/reserved_regions}): the interrupt window,
 * where DMA is an interrupt request and never memory, and the firmware's
 * memory the device may DMA to at any time (VT-d RMRR, AMD-Vi IVMD).
 *
 * @param first the first byte
 * @param last the last byte (inclusive)
 * @param type what the range is, named as Linux's sysfs names it
 * @since 1.2
 */
public record IovaRegion(long first, long last, Type type) {

    /** Linux {@code enum iommu_resv_type}, by its sysfs name. */
    public enum Type {
        /** The interrupt window: DMA here is an interrupt request ({@code IOMMU_RESV_MSI}, "msi"). */
        MSI("msi"),
        /** Firmware memory, identity-mapped whenever the device is translated ({@code IOMMU_RESV_DIRECT}). */
        DIRECT("direct"),
        /** Firmware memory a guest may go without ({@code IOMMU_RESV_DIRECT_RELAXABLE}: USB and GPU RMRRs). */
        DIRECT_RELAXABLE("direct-relaxable");

        private final String sysfsName;

        Type(String sysfsName) {
            this.sysfsName = sysfsName;
        }

        /** As {@code reserved_regions} prints it. */
        public String sysfsName() {
            return sysfsName;
        }
    }

    /** x86's interrupt window, 0xfee00000-0xfeefffff, reserved on every device of both vendors. */
    public static final IovaRegion INTERRUPT_WINDOW = new IovaRegion(0xfee0_0000L, 0xfeef_ffffL, Type.MSI);

    public IovaRegion {
        Objects.requireNonNull(type, "type");
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException(String.format("region 0x%x-0x%x is empty: expected first <= last",
                    first, last));
        }
    }

    /** Whether {@code pages} 4 KiB pages from {@code iova} touch the region. */
    public boolean overlaps(long iova, long pages) {
        long end = iova + (pages << 12) - 1;
        return Long.compareUnsigned(iova, last) <= 0 && Long.compareUnsigned(end, first) >= 0;
    }

    @Override
    public String toString() {
        return String.format("0x%x-0x%x (%s)", first, last, type.sysfsName());
    }
}
