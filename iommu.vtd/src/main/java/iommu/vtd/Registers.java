package iommu.vtd;

/**
 * The VT-d register set: offsets and field layouts (VT-d specification
 * chapter 11; Linux {@code include/linux/intel-iommu.h}, QEMU
 * {@code hw/i386/intel_iommu_internal.h}), with encoders and field
 * extractors so that the driver and the hardware side share no other
 * knowledge than these bits.
 */
final class Registers {

    private Registers() {
    }

    // ---- offsets ----------------------------------------------------------
    static final int VER = 0x00;
    static final int CAP = 0x08;
    static final int ECAP = 0x10;
    static final int GCMD = 0x18;
    static final int GSTS = 0x1C;
    static final int RTADDR = 0x20;
    static final int CCMD = 0x28;
    static final int FSTS = 0x34;
    static final int FECTL = 0x38;
    static final int FEDATA = 0x3C;
    static final int FEADDR = 0x40;
    static final int FEUADDR = 0x44;
    static final int IQH = 0x80;
    static final int IQT = 0x88;
    static final int IQA = 0x90;
    static final int ICS = 0x9C;
    static final int IECTL = 0xA0;
    static final int IEDATA = 0xA4;
    static final int IEADDR = 0xA8;
    static final int IEUADDR = 0xAC;
    /** Invalidation queue error record (VT-d 11.4.9.9; Linux DMAR_IQER_REG). */
    static final int IQERCD = 0xB0;
    /** IVA is at ECAP.IRO, the IOTLB register 8 bytes after it. */
    static final int IOTLB_AFTER_IVA = 8;
    /** Each fault recording register is 128 bits. */
    static final int FAULT_RECORD_SIZE = 16;

    // ---- VER --------------------------------------------------------------
    static int version(int major, int minor) {
        return (major & 0xF) << 4 | (minor & 0xF);
    }

    static int versionMajor(int ver) {
        return (ver >>> 4) & 0xF;
    }

    // ---- GCMD / GSTS (same bit positions) -----------------------------------
    static final int GCMD_TE = 1 << 31;
    static final int GCMD_SRTP = 1 << 30;
    static final int GCMD_SFL = 1 << 29;
    static final int GCMD_EAFL = 1 << 28;
    static final int GCMD_WBF = 1 << 27;
    static final int GCMD_QIE = 1 << 26;
    static final int GCMD_IRE = 1 << 25;
    static final int GCMD_SIRTP = 1 << 24;
    static final int GCMD_CFI = 1 << 23;
    static final int GSTS_TES = GCMD_TE;
    static final int GSTS_RTPS = GCMD_SRTP;
    static final int GSTS_FLS = GCMD_SFL;
    static final int GSTS_AFLS = GCMD_EAFL;
    static final int GSTS_WBFS = GCMD_WBF;
    static final int GSTS_QIES = GCMD_QIE;
    static final int GSTS_IRES = GCMD_IRE;
    static final int GSTS_IRTPS = GCMD_SIRTP;
    static final int GSTS_CFIS = GCMD_CFI;
    /** The GCMD bits whose state GSTS keeps (software writes them back with every command). */
    static final int GCMD_PERSISTENT = GCMD_TE | GCMD_EAFL | GCMD_QIE | GCMD_IRE | GCMD_CFI;

    // ---- RTADDR -----------------------------------------------------------
    static final long RTADDR_RTA = ~0xFFFL;
    /** Translation table mode, bits 11:10: 00 legacy (the only mode modelled). */
    static long rtaddrTtm(long rtaddr) {
        return Capability.bits(rtaddr, 11, 10);
    }

    // ---- CCMD -------------------------------------------------------------
    static final long CCMD_ICC = 1L << 63;
    static final int GRANULARITY_GLOBAL = 1;
    static final int GRANULARITY_DOMAIN = 2;
    /** CCMD: device-selective; IOTLB: page-selective. */
    static final int GRANULARITY_DEVICE_OR_PAGE = 3;

    static long ccmd(int cirg, int fm, int sid, int did) {
        return CCMD_ICC | (long) (cirg & 3) << 61 | (long) (fm & 3) << 32 | (long) (sid & 0xFFFF) << 16 | (did & 0xFFFF);
    }

    static int ccmdCirg(long v) {
        return (int) Capability.bits(v, 62, 61);
    }

    static int ccmdCaig(long v) {
        return (int) Capability.bits(v, 60, 59);
    }

    static int ccmdFm(long v) {
        return (int) Capability.bits(v, 33, 32);
    }

    static int ccmdSid(long v) {
        return (int) Capability.bits(v, 31, 16);
    }

    static int ccmdDid(long v) {
        return (int) Capability.bits(v, 15, 0);
    }

    static long withCcmdCaig(long v, int caig) {
        return (v & ~(3L << 59)) | (long) (caig & 3) << 59;
    }

    // ---- IOTLB and IVA ----------------------------------------------------
    static final long IOTLB_IVT = 1L << 63;
    static final long IOTLB_DR = 1L << 49;
    static final long IOTLB_DW = 1L << 48;

    static long iotlbCommand(int iirg, boolean dr, boolean dw, int did) {
        return IOTLB_IVT | (long) (iirg & 3) << 60 | (dr ? IOTLB_DR : 0) | (dw ? IOTLB_DW : 0)
                | (long) (did & 0xFFFF) << 32;
    }

    static int iotlbIirg(long v) {
        return (int) Capability.bits(v, 61, 60);
    }

    static int iotlbIaig(long v) {
        return (int) Capability.bits(v, 58, 57);
    }

    static int iotlbDid(long v) {
        return (int) Capability.bits(v, 47, 32);
    }

    static long withIotlbIaig(long v, int iaig) {
        return (v & ~(3L << 57)) | (long) (iaig & 3) << 57;
    }

    static long iva(long address, boolean ih, int am) {
        return (address & ~0xFFFL) | (ih ? 1L << 6 : 0) | (am & 0x3F);
    }

    static long ivaAddress(long v) {
        return v & ~0xFFFL;
    }

    static boolean ivaIh(long v) {
        return Capability.bit(v, 6);
    }

    static int ivaAm(long v) {
        return (int) Capability.bits(v, 5, 0);
    }

    // ---- FSTS -------------------------------------------------------------
    static final int FSTS_PFO = 1;
    static final int FSTS_PPF = 1 << 1;
    static final int FSTS_AFO = 1 << 2;
    static final int FSTS_APF = 1 << 3;
    static final int FSTS_IQE = 1 << 4;
    static final int FSTS_ICE = 1 << 5;
    static final int FSTS_ITE = 1 << 6;
    /** The write-1-to-clear bits of FSTS. */
    static final int FSTS_RW1C = FSTS_PFO | FSTS_AFO | FSTS_APF | FSTS_IQE | FSTS_ICE | FSTS_ITE;

    static int fstsFri(int fsts) {
        return (fsts >>> 8) & 0xFF;
    }

    // ---- fault recording registers (128-bit, at CAP.FRO) -----------------
    /** High quadword: F bit 127. */
    static final long FRCD_F = 1L << 63;
    /** High quadword: T bit 126, 1 for a read (Linux dma_frcd_type). */
    static final long FRCD_T_READ = 1L << 62;

    static long frcdLow(long faultAddress) {
        return faultAddress & ~0xFFFL;
    }

    static long frcdHigh(int reason, int sid, boolean read) {
        return FRCD_F | (read ? FRCD_T_READ : 0) | (long) (reason & 0xFF) << 32 | (sid & 0xFFFF);
    }

    static int frcdReason(long high) {
        return (int) Capability.bits(high, 39, 32);
    }

    static int frcdSid(long high) {
        return (int) Capability.bits(high, 15, 0);
    }

    // ---- queued invalidation ----------------------------------------------
    /** IQH and IQT: the descriptor index in bits 18:4 (128-bit descriptors). */
    static final long IQ_INDEX_MASK = 0x7FFFL << 4;
    /** IQA: DW bit 11 (256-bit descriptors, not modelled), QS bits 2:0 (2^QS pages). */
    static final long IQA_DW = 1L << 11;

    static long iqa(long base, int qs) {
        return (base & ~0xFFFL) | (qs & 7);
    }

    static long iqaBase(long iqa) {
        return iqa & ~0xFFFL;
    }

    static int iqaQs(long iqa) {
        return (int) (iqa & 7);
    }

    /** How many 128-bit descriptors a queue of 2^QS pages holds. */
    static int queueEntries(int qs) {
        return 256 << qs;
    }

    static final int ICS_IWC = 1;

    // ---- IQERCD: ICESID 63:48, ITESID 47:32, IQEI 3:0 (Linux DMAR_IQER_REG_*) ----
    static long iqercd(int itesid) {
        return (long) (itesid & 0xFFFF) << 32;
    }

    /** The source id of the device-TLB invalidation that timed out; valid while FSTS.ITE is set. */
    static int iqercdItesid(long v) {
        return (int) Capability.bits(v, 47, 32);
    }

    static int iqercdIcesid(long v) {
        return (int) Capability.bits(v, 63, 48);
    }

    static int iqercdIqei(long v) {
        return (int) Capability.bits(v, 3, 0);
    }
}
