package iommu.vtd;

/**
 * A legacy-mode context entry (VT-d 9.3): 128 bits, one per device function.
 * Present bit 0, fault processing disable bit 1, translation type 3:2,
 * second-level page-table pointer 63:12, address width 66:64, domain id
 * 87:72; bits 11:4, 71 and 127:88 reserved, 70:67 available to software.
 *
 * @param present bit 0
 * @param faultProcessingDisable bit 1: faults of the device are not recorded
 * @param translationType bits 3:2: 0 untranslated requests only, 1 also
 *        translated requests (device TLB), 2 pass-through, 3 reserved
 * @param secondLevelPointer the physical address of the I/O page table root, bits 63:12
 * @param addressWidth bits 66:64: 0 30-bit (2-level), 1 39-bit (3-level), 2 48-bit (4-level), 3 57-bit (5-level)
 * @param domainId bits 87:72
 */
record ContextEntry(boolean present, boolean faultProcessingDisable, int translationType, long secondLevelPointer,
        int addressWidth, int domainId) {

    static final int SIZE = 16;
    static final int TT_UNTRANSLATED = 0;
    static final int TT_DEVICE_TLB = 1;
    static final int TT_PASS_THROUGH = 2;
    /** Reserved bits of the low quadword: 11:4. */
    static final long LOW_RESERVED = 0xFF0L;
    /** Reserved bits of the high quadword: 71 (bit 7) and 127:88 (bits 63:24). */
    static final long HIGH_RESERVED = 0xFFFF_FFFF_FF00_0080L;

    ContextEntry {
        if (translationType < 0 || translationType > 3) {
            throw new IllegalArgumentException("translation type " + translationType + ": expected 0..3");
        }
        if ((secondLevelPointer & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format(
                    "second-level page-table pointer 0x%x: expected 4 KiB-aligned", secondLevelPointer));
        }
        if (addressWidth < 0 || addressWidth > 7) {
            throw new IllegalArgumentException("address width " + addressWidth + ": expected 0..7");
        }
        if (domainId < 0 || domainId > 0xFFFF) {
            throw new IllegalArgumentException("domain id " + domainId + ": expected 0..65535");
        }
    }

    /** A present entry translating untranslated requests through the page table at {@code root}. */
    static ContextEntry translating(long root, int addressWidth, int domainId) {
        return new ContextEntry(true, false, TT_UNTRANSLATED, root, addressWidth, domainId);
    }

    long low() {
        return secondLevelPointer | (long) translationType << 2 | (faultProcessingDisable ? 2 : 0) | (present ? 1 : 0);
    }

    long high() {
        return (long) domainId << 8 | addressWidth;
    }

    static ContextEntry decode(long low, long high) {
        return new ContextEntry((low & 1) != 0, (low & 2) != 0, (int) Capability.bits(low, 3, 2), low & ~0xFFFL,
                (int) Capability.bits(high, 2, 0), (int) Capability.bits(high, 23, 8));
    }

    static boolean reservedBitsSet(long low, long high) {
        return (low & LOW_RESERVED) != 0 || (high & HIGH_RESERVED) != 0;
    }

    /** The guest address width an AW value stands for: 30 + 9 x AW bits. */
    static int widthOf(int addressWidth) {
        return 30 + 9 * addressWidth;
    }

    /** How many page-table levels an AW value stands for: AW + 2. */
    static int levelsOf(int addressWidth) {
        return addressWidth + 2;
    }
}
