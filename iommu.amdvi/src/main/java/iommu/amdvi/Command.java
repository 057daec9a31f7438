package iommu.amdvi;

/**
 * One 128-bit AMD-Vi command as it sits in the command buffer: four
 * little-endian dwords, the opcode in dword 1 bits 31:28 (AMD IOMMU
 * specification 48882, "Commands"; Linux {@code iommu.c} build_* functions).
 * {@link #encode()} gives the two quadwords software writes; {@link #decode}
 * is what the hardware reads back.
 */
sealed interface Command {

    int COMPLETION_WAIT = 0x01;
    int INVALIDATE_DEVTAB_ENTRY = 0x02;
    int INVALIDATE_IOMMU_PAGES = 0x03;
    int INVALIDATE_IOMMU_ALL = 0x08;
    int SIZE = 16;
    /** The address Linux uses for "every page" (CMD_INV_IOMMU_ALL_PAGES_ADDRESS with bits 11:0 cleared). */
    long ALL_PAGES_ADDRESS = 0x7FFF_FFFF_FFFF_F000L;

    /** The command as quadwords {dword1:dword0, dword3:dword2}. */
    long[] encode();

    static long[] qwords(long d0, long d1, long d2, long d3) {
        return new long[] {(d0 & 0xFFFF_FFFFL) | d1 << 32, (d2 & 0xFFFF_FFFFL) | d3 << 32};
    }

    static Command decode(long lo, long hi) {
        long d0 = lo & 0xFFFF_FFFFL;
        long d1 = lo >>> 32;
        long d2 = hi & 0xFFFF_FFFFL;
        long d3 = hi >>> 32;
        int opcode = (int) (d1 >>> 28) & 0xF;
        return switch (opcode) {
            case COMPLETION_WAIT -> new CompletionWait((d0 & 1) != 0, (d0 & 2) != 0, (d0 & 4) != 0,
                    (d1 & 0xFFFFF) << 32 | d0 & 0xFFFF_FFF8L, d2 | d3 << 32);
            case INVALIDATE_DEVTAB_ENTRY -> new InvalidateDevtabEntry((int) d0 & 0xFFFF);
            case INVALIDATE_IOMMU_PAGES -> new InvalidateIommuPages((int) d0 & 0xFFFFF, (int) d1 & 0xFFFF,
                    d3 << 32 | d2 & 0xFFFF_F000L, (d2 & 1) != 0, (d2 & 2) != 0, (d2 & 4) != 0);
            case INVALIDATE_IOMMU_ALL -> new InvalidateIommuAll();
            default -> new Unknown(opcode, lo, hi);
        };
    }

    /**
     * COMPLETION_WAIT (01h): when every earlier command completed, store
     * {@code data} at {@code address} (s, dword0 bit 0; address 51:3 in dword0
     * 31:3 and dword1 19:0; data in dwords 2-3) and/or raise the
     * completion-wait interrupt (i, bit 1); f (bit 2) flushes the queue.
     */
    record CompletionWait(boolean store, boolean interrupt, boolean flushQueue, long address, long data)
            implements Command {
        public CompletionWait {
            if ((address & 7) != 0 || address >>> 52 != 0) {
                throw new IllegalArgumentException(String.format("completion-wait store address 0x%x: expected"
                        + " 8-byte aligned below 2^52", address));
            }
        }

        @Override
        public long[] encode() {
            long d0 = address & 0xFFFF_FFF8L | (store ? 1 : 0) | (interrupt ? 2 : 0) | (flushQueue ? 4 : 0);
            long d1 = (address >>> 32 & 0xFFFFF) | (long) COMPLETION_WAIT << 28;
            return qwords(d0, d1, data, data >>> 32);
        }
    }

    /** INVALIDATE_DEVTAB_ENTRY (02h): the cached device table entry of DeviceID (dword0 15:0). */
    record InvalidateDevtabEntry(int deviceId) implements Command {
        public InvalidateDevtabEntry {
            if (deviceId < 0 || deviceId > 0xFFFF) {
                throw new IllegalArgumentException("device id " + deviceId + ": expected 0..0xffff");
            }
        }

        @Override
        public long[] encode() {
            return qwords(deviceId, (long) INVALIDATE_DEVTAB_ENTRY << 28, 0, 0);
        }
    }

    /**
     * INVALIDATE_IOMMU_PAGES (03h): the IOTLB entries of DomainID (dword1
     * 15:0) at {@code address} (63:12, dwords 2-3); S (dword2 bit 0) set means
     * a range whose size is given by the lowest clear address bit from bit 12
     * on; PDE (bit 1) also drops cached page directory entries; GN (bit 2)
     * with PASID (dword0 19:0) for guest translations.
     */
    record InvalidateIommuPages(int pasid, int domainId, long address, boolean size, boolean pde, boolean guest)
            implements Command {
        public InvalidateIommuPages {
            if (domainId < 0 || domainId > 0xFFFF) {
                throw new IllegalArgumentException("domain id " + domainId + ": expected 0..65535");
            }
            if ((address & 0xFFF) != 0) {
                throw new IllegalArgumentException(String.format("invalidation address 0x%x: expected bits 11:0"
                        + " clear", address));
            }
        }

        /** The invalidation of 2^order pages from {@code iova} (naturally aligned), encoded as Linux's build_inv_address does. */
        static InvalidateIommuPages of(int domainId, long iova, int order) {
            if (order == 0) {
                return new InvalidateIommuPages(0, domainId, iova, false, true, false);
            }
            if (order > 40) { // beyond bit 51: every page, as Linux does
                return new InvalidateIommuPages(0, domainId, ALL_PAGES_ADDRESS, true, true, false);
            }
            long address = (iova | (1L << (12 + order - 1)) - 1) & ~0xFFFL;
            return new InvalidateIommuPages(0, domainId, address, true, true, false);
        }

        /** Every page of the domain. */
        static InvalidateIommuPages all(int domainId) {
            return new InvalidateIommuPages(0, domainId, ALL_PAGES_ADDRESS, true, true, false);
        }

        /** The first page number covered. */
        long firstPage() {
            int order = order();
            return order >= 52 ? 0 : (address >>> 12) >>> order << order;
        }

        /** log2 of the pages covered: 0 without S, else one more than the count of set address bits from bit 12 up. */
        int order() {
            if (!size) {
                return 0;
            }
            long bits = ~(address >>> 12);
            return bits == 0 ? 52 : Math.min(52, Long.numberOfTrailingZeros(bits) + 1);
        }

        boolean covers(long page) {
            int order = order();
            return order >= 52 || page >>> order == firstPage() >>> order;
        }

        @Override
        public long[] encode() {
            long d2 = address & 0xFFFF_F000L | (size ? 1 : 0) | (pde ? 2 : 0) | (guest ? 4 : 0);
            return qwords(pasid & 0xFFFFF, domainId | (long) INVALIDATE_IOMMU_PAGES << 28, d2, address >>> 32);
        }
    }

    /** INVALIDATE_IOMMU_ALL (08h): every cached entry of the unit; needs EFR.IASup. */
    record InvalidateIommuAll() implements Command {
        @Override
        public long[] encode() {
            return qwords(0, (long) INVALIDATE_IOMMU_ALL << 28, 0, 0);
        }
    }

    /** An opcode the model does not carry out: the hardware logs ILLEGAL_COMMAND_ERROR. */
    record Unknown(int opcode, long lo, long hi) implements Command {
        @Override
        public long[] encode() {
            return new long[] {lo, hi};
        }
    }
}
