package iommu.amdvi;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The AMD-Vi Extended Feature Register (MMIO 0x0030), decoded as the AMD
 * IOMMU specification (48882) and Linux's {@code amd_iommu_types.h} lay it
 * out.
 */
record Efr(long raw) {

    /** INVALIDATE_IOMMU_ALL is supported (IASup, bit 6). */
    static final long IA = 1L << 6;

    /**
     * A type 10h IVHD has no EFR image: its feature reporting field carries
     * the same facts at other bit positions (XTSup 0, NXSup 1, GTSup 2, GLXSup
     * 4:3, IASup 5, GASup 6, HESup 7, PASmax 12:8, GATS 29:28, HATS 31:30).
     */
    static Efr fromFeatureReporting(long fr) {
        long efr = 0;
        efr |= bits(fr, 0, 1) << 2; // XTSup
        efr |= bits(fr, 1, 1) << 3; // NXSup
        efr |= bits(fr, 2, 1) << 4; // GTSup
        efr |= bits(fr, 3, 2) << 14; // GLXSup
        efr |= bits(fr, 5, 1) << 6; // IASup
        efr |= bits(fr, 6, 1) << 7; // GASup
        efr |= bits(fr, 7, 1) << 8; // HESup
        efr |= bits(fr, 8, 5) << 32; // PASmax
        efr |= bits(fr, 28, 2) << 12; // GATS
        efr |= bits(fr, 30, 2) << 10; // HATS
        return new Efr(efr);
    }

    static long bits(long value, int low, int width) {
        return value >>> low & ((1L << width) - 1);
    }

    private boolean bit(int n) {
        return (raw >>> n & 1) != 0;
    }

    boolean prefetchSupported() {
        return bit(0);
    }

    boolean pprSupported() {
        return bit(1);
    }

    boolean x2apicSupported() {
        return bit(2);
    }

    boolean invalidateAllSupported() {
        return bit(6);
    }

    boolean performanceCountersSupported() {
        return bit(9);
    }

    /** HATS (11:10): host address translation size, 0 four levels, 1 five, 2 six. */
    int hats() {
        return (int) bits(raw, 10, 2);
    }

    /** The most page-table levels the host translation supports (4 + HATS), 0 when HATS is reserved (3). */
    int maxHostLevels() {
        return hats() == 3 ? 0 : 4 + hats();
    }

    Map<String, Object> describe() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("efr", String.format("0x%016x", raw));
        f.put("efr.PreFSup", bit(0));
        f.put("efr.PPRSup", bit(1));
        f.put("efr.XTSup", bit(2));
        f.put("efr.NXSup", bit(3));
        f.put("efr.GTSup", bit(4));
        f.put("efr.IASup", bit(6));
        f.put("efr.GASup", bit(7));
        f.put("efr.HESup", bit(8));
        f.put("efr.PCSup", bit(9));
        f.put("efr.HATS", hats());
        f.put("efr.GATS", (int) bits(raw, 12, 2));
        f.put("efr.GLXSup", (int) bits(raw, 14, 2));
        f.put("efr.SmiFSup", (int) bits(raw, 16, 2));
        f.put("efr.SmiFRC", (int) bits(raw, 18, 3));
        f.put("efr.GAMSup", (int) bits(raw, 21, 3));
        f.put("efr.PASmax", (int) bits(raw, 32, 5));
        f.put("efr.DevTblSegSup", (int) bits(raw, 38, 2));
        f.put("efr.GIOSup", bit(48));
        f.put("efr.HASup", bit(49));
        f.put("efr.EPHSup", bit(50));
        f.put("efr.HDSup", bit(52));
        f.put("efr.SNPSup", bit(63));
        return f;
    }
}
