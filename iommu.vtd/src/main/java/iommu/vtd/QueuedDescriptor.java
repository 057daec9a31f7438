package iommu.vtd;

/**
 * A 128-bit queued-invalidation descriptor (VT-d 6.5.2), type in bits 3:0 of
 * the low quadword. The model knows the four the legacy-mode driver uses:
 * context-cache invalidate (1), IOTLB invalidate (2), device-TLB invalidate
 * (3) and invalidation wait (5); any other type is {@link Other}, which the
 * hardware refuses with IQE (but an interrupt entry cache one, a no-op).
 * The register-based path carries the same two invalidation records through
 * CCMD and IOTLB/IVA.
 */
sealed interface QueuedDescriptor {

    int SIZE = 16;
    int TYPE_CONTEXT_CACHE = 1;
    int TYPE_IOTLB = 2;
    int TYPE_DEVICE_TLB = 3;
    int TYPE_INTERRUPT_ENTRY_CACHE = 4;
    int TYPE_WAIT = 5;

    long low();

    long high();

    /** Whether reserved bits are set (the hardware refuses the descriptor with IQE). */
    boolean reservedBitsSet();

    /**
     * Context-cache invalidate: granularity 5:4 (1 global, 2 domain, 3 device),
     * DID 31:16, SID 47:32, FM 49:48.
     *
     * @param functionMask 0 none, 1 masks SID bit 2, 2 bits 2:1, 3 bits 2:0
     */
    record ContextCacheInvalidate(int granularity, int domainId, int sourceId, int functionMask, long low,
            long high) implements QueuedDescriptor {

        static ContextCacheInvalidate of(int granularity, int domainId, int sourceId, int functionMask) {
            long low = TYPE_CONTEXT_CACHE | (long) (granularity & 3) << 4 | (long) (domainId & 0xFFFF) << 16
                    | (long) (sourceId & 0xFFFF) << 32 | (long) (functionMask & 3) << 48;
            return new ContextCacheInvalidate(granularity, domainId, sourceId, functionMask, low, 0);
        }

        @Override
        public boolean reservedBitsSet() {
            return (low & 0xFFFC_0000_0000_FFC0L) != 0 || high != 0;
        }
    }

    /**
     * IOTLB invalidate: granularity 5:4 (1 global, 2 domain, 3 page), DW 6,
     * DR 7, DID 31:16; high quadword ADDR 63:12, IH 6, AM 5:0.
     */
    record IotlbInvalidate(int granularity, boolean drainReads, boolean drainWrites, int domainId, long address,
            boolean invalidationHint, int addressMask, long low, long high) implements QueuedDescriptor {

        static IotlbInvalidate of(int granularity, boolean drainReads, boolean drainWrites, int domainId, long address,
                boolean invalidationHint, int addressMask) {
            long low = TYPE_IOTLB | (long) (granularity & 3) << 4 | (drainWrites ? 1L << 6 : 0)
                    | (drainReads ? 1L << 7 : 0) | (long) (domainId & 0xFFFF) << 16;
            long high = (address & ~0xFFFL) | (invalidationHint ? 1L << 6 : 0) | (addressMask & 0x3F);
            return new IotlbInvalidate(granularity, drainReads, drainWrites, domainId, address & ~0xFFFL,
                    invalidationHint, addressMask & 0x3F, low, high);
        }

        @Override
        public boolean reservedBitsSet() {
            return (low & 0xFFFF_FFFF_0000_FF00L) != 0 || (high & 0xF80L) != 0;
        }
    }

    /**
     * Invalidation wait: IF 4 (interrupt, sets ICS.IWC), SW 5 (status write),
     * FN 6 (fence), status data 63:32; high quadword the status address 63:2.
     */
    record InvalidationWait(boolean interruptFlag, boolean statusWrite, boolean fence, int statusData,
            long statusAddress, long low, long high) implements QueuedDescriptor {

        static InvalidationWait of(boolean interruptFlag, boolean statusWrite, boolean fence, int statusData,
                long statusAddress) {
            long low = TYPE_WAIT | (interruptFlag ? 1L << 4 : 0) | (statusWrite ? 1L << 5 : 0) | (fence ? 1L << 6 : 0)
                    | (statusData & 0xFFFF_FFFFL) << 32;
            long high = statusAddress & ~3L;
            return new InvalidationWait(interruptFlag, statusWrite, fence, statusData, statusAddress & ~3L, low, high);
        }

        /** A fence that writes nothing and raises no interrupt: what a failed descriptor is overwritten with. */
        static InvalidationWait noOp() {
            return of(false, false, true, 0, 0);
        }

        @Override
        public boolean reservedBitsSet() {
            // bits 31:8 (PD, bit 7, is a drain the model accepts and ignores), and 1:0 of the address
            return (low & 0xFFFF_FF00L) != 0 || (high & 3L) != 0;
        }
    }

    /**
     * Device-TLB invalidate (VT-d 6.5.2.5), as Linux {@code qi_flush_dev_iotlb}
     * writes it ({@code QI_DEV_IOTLB_*} in iommu.h) and QEMU
     * {@code vtd_process_device_iotlb_desc} reads it
     * ({@code VTD_INV_DESC_DEVICE_IOTLB_*}): low quadword PFSID[3:0] 15:12,
     * MIP 20:16 (max invalidations pending, the device's ATS queue depth,
     * {@code QI_DEV_IOTLB_QDEP}), SID 47:32, PFSID[15:4] 63:52; high
     * quadword S 0 and ADDR 63:12. S=0: the page at ADDR; S=1: the size is
     * encoded in ADDR (PCIe ATS, Invalidate Request): the n low address bits
     * from 12 up that are 1 make a range of 2^(n+1) pages, the aligned block
     * holding ADDR (QEMU: {@code (VTD_PAGE_SIZE * 2) << cto64(addr >> 12)}).
     * Linux asks for the whole cache with S=1 and ADDR bits 62:12 set
     * ({@code MAX_AGAW_PFN_WIDTH}, 2^52 pages). Reserved: 11:4 (11:9 are the
     * upper type bits of VT-d 3, 0 for type 3), 31:21, 51:48, and 11:1 of the
     * high quadword. QEMU's RSVD_LO also reserves PFSID (15:12, 63:52): it has
     * no VFs behind its IOMMU.
     *
     * @param order the range: 2^order pages, {@link iommu.api.spi.Invalidation.DeviceTlb#ALL} for all
     */
    record DeviceTlbInvalidate(int sourceId, int physicalFunctionSourceId, int maxInvalidationsPending, boolean size,
            long address, long low, long high) implements QueuedDescriptor {

        /** Reserved bits of the low quadword: 11:4, 31:21, 51:48. */
        static final long LOW_RESERVED = 0x000F_0000_FFE0_0FF0L;
        /** Reserved bits of the high quadword: 11:1. */
        static final long HIGH_RESERVED = 0xFFEL;
        static final int ALL = iommu.api.spi.Invalidation.DeviceTlb.ALL;

        /** Linux {@code qi_flush_dev_iotlb(iommu, sid, pfsid, qdep, addr, mask)}, {@code mask} the page order. */
        static DeviceTlbInvalidate of(int sid, int pfsid, int mip, long address, int order) {
            long low = TYPE_DEVICE_TLB | (long) (pfsid & 0xF) << 12 | (long) (mip & 0x1F) << 16
                    | (long) (sid & 0xFFFF) << 32 | (long) ((pfsid >>> 4) & 0xFFF) << 52;
            long high;
            if (order > 0) {
                high = ((address | ((1L << (12 + order - 1)) - 1)) & ~0xFFFL) | 1;
            } else {
                high = address & ~0xFFFL;
            }
            return (DeviceTlbInvalidate) decode(low, high);
        }

        /** The range's size as a page order: 0 with S=0, else one more than the ones from ADDR bit 12 up. */
        int order() {
            return size ? Math.min(ALL, Long.numberOfTrailingZeros(~(address >>> 12)) + 1) : 0;
        }

        /** The range's first page (the aligned block holding ADDR). */
        long firstPage() {
            int order = order();
            return order >= ALL ? 0 : (address >>> 12) >>> order << order;
        }

        @Override
        public boolean reservedBitsSet() {
            return (low & LOW_RESERVED) != 0 || (high & HIGH_RESERVED) != 0;
        }
    }

    /** Any other descriptor type (interrupt entry cache, PASID-based, or reserved). */
    record Other(int type, long low, long high) implements QueuedDescriptor {

        @Override
        public boolean reservedBitsSet() {
            return false;
        }
    }

    static QueuedDescriptor decode(long low, long high) {
        int type = (int) (low & 0xF);
        return switch (type) {
            case TYPE_CONTEXT_CACHE -> new ContextCacheInvalidate((int) Capability.bits(low, 5, 4),
                    (int) Capability.bits(low, 31, 16), (int) Capability.bits(low, 47, 32),
                    (int) Capability.bits(low, 49, 48), low, high);
            case TYPE_IOTLB -> new IotlbInvalidate((int) Capability.bits(low, 5, 4), Capability.bit(low, 7),
                    Capability.bit(low, 6), (int) Capability.bits(low, 31, 16), high & ~0xFFFL,
                    Capability.bit(high, 6), (int) Capability.bits(high, 5, 0), low, high);
            case TYPE_DEVICE_TLB -> new DeviceTlbInvalidate((int) Capability.bits(low, 47, 32),
                    (int) (Capability.bits(low, 15, 12) | Capability.bits(low, 63, 52) << 4),
                    (int) Capability.bits(low, 20, 16), Capability.bit(high, 0), high & ~0xFFFL, low, high);
            case TYPE_WAIT -> new InvalidationWait(Capability.bit(low, 4), Capability.bit(low, 5),
                    Capability.bit(low, 6), (int) (low >>> 32), high & ~3L, low, high);
            default -> new Other(type, low, high);
        };
    }
}
