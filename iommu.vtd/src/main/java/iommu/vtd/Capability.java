package iommu.vtd;

/**
 * The VT-d capability register (CAP, offset 0x08), decoded as the VT-d
 * specification lays it out (Linux {@code cap_*} macros, Xen {@code cap_*}).
 *
 * @param raw the 64-bit register value
 * @param nd number of domains supported, bits 2:0 (NR_DID = 2^(4+2*ND))
 * @param rwbf required write-buffer flushing, bit 4
 * @param cachingMode caching mode, bit 7
 * @param sagaw supported adjusted guest address widths, bits 12:8, a bit mask
 * @param mgaw maximum guest address width in bits: bits 21:16 plus one
 * @param faultRecordingOffset byte offset of the fault-recording registers: bits 33:24 times 16
 * @param pageSelective page-selective invalidation, bit 39
 * @param faultRecords number of fault-recording registers: bits 47:40 plus one
 * @param maxAddressMaskValue largest page-selective invalidation order, bits 53:48
 */
public record Capability(long raw, int nd, boolean rwbf, boolean cachingMode, int sagaw, int mgaw,
        int faultRecordingOffset, boolean pageSelective, int faultRecords, int maxAddressMaskValue) {

    /** Decodes a register value; ND 7 is reserved and refused. */
    public static Capability decode(long raw) {
        int nd = (int) bits(raw, 2, 0);
        if (nd == 7) {
            throw new IllegalArgumentException(String.format(
                    "CAP 0x%x has ND=7, a reserved value: expected ND 0..6", raw));
        }
        return new Capability(raw, nd,
                bit(raw, 4),
                bit(raw, 7),
                (int) bits(raw, 12, 8),
                (int) bits(raw, 21, 16) + 1,
                (int) bits(raw, 33, 24) * 16,
                bit(raw, 39),
                (int) bits(raw, 47, 40) + 1,
                (int) bits(raw, 53, 48));
    }

    /** Parses the hexadecimal text sysfs shows ({@code d2008c40660462}, 0x optional) and decodes it. */
    public static Capability parse(String hex) {
        return decode(Numbers.hex64("CAP", hex));
    }

    /** NR_DID, the number of domain ids: 2^(4 + 2*ND). */
    public int domainIdCount() {
        return 1 << (4 + 2 * nd);
    }

    static long bits(long value, int high, int low) {
        return (value >>> low) & ((1L << (high - low + 1)) - 1);
    }

    static boolean bit(long value, int bit) {
        return ((value >>> bit) & 1) != 0;
    }

    @Override
    public String toString() {
        return Long.toHexString(raw);
    }
}
