package iommu.amdvi;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One 256-bit AMD-Vi device table entry, as four little-endian quadwords
 * (AMD IOMMU specification 48882, "Device Table Entry Format"; Linux
 * {@code amd_iommu_types.h}):
 * <ul>
 * <li>DTE[0]: V 0, TV 1, HAD 8:7, Mode 11:9, Page Table Root Pointer 51:12,
 * PPR 52, GPRP 53, GIoV 54, GV 55, GLX 57:56, IR 61, IW 62;</li>
 * <li>DTE[1]: DomainID 15:0 (bits 79:64), I (IOTLB) 32, SE 33, SA 34,
 * IoCtl 36:35, Cache 37, SD 38, EX 39, SysMgt 41:40;</li>
 * <li>DTE[2]: IV 0, IntTabLen 4:1, IG 5, InitPass 56, EIntPass 57,
 * NMIPass 58, IntCtl 61:60, Lint0Pass 62, Lint1Pass 63;</li>
 * <li>DTE[3]: reserved here.</li>
 * </ul>
 */
record DeviceTableEntry(long q0, long q1, long q2, long q3) {

    static final int SIZE = 32;
    static final long V = 1L;
    static final long TV = 1L << 1;
    static final int MODE_SHIFT = 9;
    static final long MODE_MASK = 7L << MODE_SHIFT;
    static final long ROOT_MASK = 0x000F_FFFF_FFFF_F000L;
    static final long IR = 1L << 61;
    static final long IW = 1L << 62;
    static final long DOMAIN_MASK = 0xFFFFL;
    static final long SA = 1L << 34;
    /** DTE[0] bits the model treats as reserved (must be zero): 6:2 and 63. */
    static final long Q0_RESERVED = 0x7CL | 1L << 63;

    /** What a device with no domain gets, as Linux's {@code clear_dte_entry}: V, TV, mode 0, no IR/IW: DMA blocked. */
    static DeviceTableEntry blocked(int setting) {
        return new DeviceTableEntry(V | TV, 0, interruptBits(setting), 0).withSysMgt(setting);
    }

    /**
     * The host domain's entry in pass-through, as Linux's {@code set_dte_passthrough}
     * writes it for the identity domain: V, TV, mode 0 with IR and IW (DMA
     * passes untranslated), the domain id.
     */
    static DeviceTableEntry passThrough(int domainId, int setting) {
        if (domainId < 0 || domainId > 0xFFFF) {
            throw new IllegalArgumentException("domain id " + domainId + ": expected 0..65535");
        }
        return new DeviceTableEntry(V | TV | IR | IW, domainId, interruptBits(setting), 0).withSysMgt(setting);
    }

    /** Valid, mode 0, with IR and IW: the host domain's pass-through. */
    boolean passesThrough() {
        return valid() && translationValid() && mode() == 0 && ir() && iw();
    }

    /** A translating entry: V, TV, the paging mode and root, IR and IW, the domain id. */
    static DeviceTableEntry translating(long root, int mode, int domainId, int setting) {
        if ((root & ~ROOT_MASK) != 0) {
            throw new IllegalArgumentException(String.format("page table root 0x%x: expected a 4 KiB-aligned"
                    + " address below 2^52", root));
        }
        if (mode < 1 || mode > 6) {
            throw new IllegalArgumentException("paging mode " + mode + ": expected 1..6");
        }
        if (domainId < 0 || domainId > 0xFFFF) {
            throw new IllegalArgumentException("domain id " + domainId + ": expected 0..65535");
        }
        long q0 = V | TV | (long) mode << MODE_SHIFT | root | IR | IW;
        return new DeviceTableEntry(q0, domainId, interruptBits(setting), 0).withSysMgt(setting);
    }

    /** The IVHD DTE setting's interrupt pass-through bits, in DTE[2]: INITPass 56, EIntPass 57, NMIPass 58, Lint0Pass 62, Lint1Pass 63. */
    private static long interruptBits(int setting) {
        long q2 = 0;
        q2 |= (long) (setting & 0x01) << 56;
        q2 |= (long) (setting >>> 1 & 1) << 57;
        q2 |= (long) (setting >>> 2 & 1) << 58;
        q2 |= (long) (setting >>> 6 & 1) << 62;
        q2 |= (long) (setting >>> 7 & 1) << 63;
        return q2;
    }

    /** SysMgt (IVHD setting bits 5:4) into DTE[1] 41:40. */
    private DeviceTableEntry withSysMgt(int setting) {
        return new DeviceTableEntry(q0, q1 | (long) (setting >>> 4 & 3) << 40, q2, q3);
    }

    static DeviceTableEntry read(Memory memory, long address) {
        return new DeviceTableEntry(memory.read64(address), memory.read64(address + 8), memory.read64(address + 16),
                memory.read64(address + 24));
    }

    void write(Memory memory, long address) {
        memory.write64(address, q0);
        memory.write64(address + 8, q1);
        memory.write64(address + 16, q2);
        memory.write64(address + 24, q3);
    }

    boolean valid() {
        return (q0 & V) != 0;
    }

    boolean translationValid() {
        return (q0 & TV) != 0;
    }

    int mode() {
        return (int) ((q0 & MODE_MASK) >>> MODE_SHIFT);
    }

    long root() {
        return q0 & ROOT_MASK;
    }

    boolean ir() {
        return (q0 & IR) != 0;
    }

    boolean iw() {
        return (q0 & IW) != 0;
    }

    int domainId() {
        return (int) (q1 & DOMAIN_MASK);
    }

    /** Suppress all I/O page fault events. */
    boolean suppressAll() {
        return (q1 & SA) != 0;
    }

    /** Valid and translating through a page table (mode 1..6): a device attached to a domain. */
    boolean translates() {
        return valid() && translationValid() && mode() != 0;
    }

    Map<String, Object> describe() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("V", valid());
        f.put("TV", translationValid());
        f.put("Mode", mode());
        f.put("PageTableRoot", String.format("0x%x", root()));
        f.put("IR", ir());
        f.put("IW", iw());
        f.put("DomainID", domainId());
        f.put("I", (q1 >>> 32 & 1) != 0);
        f.put("SE", (q1 >>> 33 & 1) != 0);
        f.put("SA", suppressAll());
        f.put("IoCtl", (int) (q1 >>> 35 & 3));
        f.put("SysMgt", (int) (q1 >>> 40 & 3));
        f.put("IV", (q2 & 1) != 0);
        f.put("InitPass", (q2 >>> 56 & 1) != 0);
        f.put("EIntPass", (q2 >>> 57 & 1) != 0);
        f.put("NMIPass", (q2 >>> 58 & 1) != 0);
        f.put("IntCtl", (int) (q2 >>> 60 & 3));
        f.put("Lint0Pass", (q2 >>> 62 & 1) != 0);
        f.put("Lint1Pass", (q2 >>> 63 & 1) != 0);
        f.put("raw", String.format("%016x:%016x:%016x:%016x", q3, q2, q1, q0));
        return f;
    }
}
