package iommu.vtd;

/**
 * A legacy-mode root entry (VT-d 9.1): 128 bits, one per bus. Low quadword:
 * present bit 0, context-table pointer 63:12; bits 11:1 and the whole high
 * quadword reserved.
 *
 * @param present bit 0
 * @param contextTablePointer the physical address of the bus's context table, bits 63:12
 */
record RootEntry(boolean present, long contextTablePointer) {

    static final int SIZE = 16;
    static final RootEntry NOT_PRESENT = new RootEntry(false, 0);
    /** Reserved bits of the low quadword. */
    static final long LOW_RESERVED = 0xFFEL;

    RootEntry {
        if ((contextTablePointer & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format(
                    "context-table pointer 0x%x: expected 4 KiB-aligned", contextTablePointer));
        }
    }

    long low() {
        return contextTablePointer | (present ? 1 : 0);
    }

    long high() {
        return 0;
    }

    static RootEntry decode(long low, long high) {
        return new RootEntry((low & 1) != 0, low & ~0xFFFL);
    }

    /** Whether reserved bits are set (the hardware faults 0xA on a present entry). */
    static boolean reservedBitsSet(long low, long high) {
        return (low & LOW_RESERVED) != 0 || high != 0;
    }
}
