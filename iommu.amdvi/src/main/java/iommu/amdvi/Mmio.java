package iommu.amdvi;

/** AMD-Vi MMIO register offsets and bits (AMD IOMMU specification 48882; Linux {@code amd_iommu_types.h}). */
final class Mmio {

    static final int DEV_TABLE_BASE = 0x0000;
    static final int CMD_BUF_BASE = 0x0008;
    static final int EVT_LOG_BASE = 0x0010;
    static final int CONTROL = 0x0018;
    static final int EXCL_BASE = 0x0020;
    static final int EXCL_LIMIT = 0x0028;
    static final int EXT_FEATURES = 0x0030;
    static final int CMD_HEAD = 0x2000;
    static final int CMD_TAIL = 0x2008;
    static final int EVT_HEAD = 0x2010;
    static final int EVT_TAIL = 0x2018;
    static final int STATUS = 0x2020;

    /** Control register bits. */
    static final long CONTROL_IOMMU_EN = 1L;
    static final long CONTROL_EVT_LOG_EN = 1L << 2;
    static final long CONTROL_EVT_INT_EN = 1L << 3;
    static final long CONTROL_COMWAIT_INT_EN = 1L << 4;
    static final long CONTROL_COHERENT_EN = 1L << 10;
    static final long CONTROL_CMDBUF_EN = 1L << 12;

    /** Status register bits. */
    static final long STATUS_EVT_OVERFLOW = 1L;
    static final long STATUS_EVT_INT = 1L << 1;
    static final long STATUS_COMWAIT_INT = 1L << 2;
    static final long STATUS_EVT_RUN = 1L << 3;
    static final long STATUS_CMDBUF_RUN = 1L << 4;

    /** Base registers: the base address in 51:12; the length (log2 of entries) in 59:56 for the command buffer and event log. */
    static final long BASE_MASK = 0x000F_FFFF_FFFF_F000L;
    static final int LEN_SHIFT = 56;
    /** Head and tail registers: the byte offset in 18:4. */
    static final long POINTER_MASK = 0x7_FFF0L;

    private Mmio() {
    }
}
