package iommu.vtd;

/**
 * The VT-d fault reasons of legacy-mode DMA remapping, with the codes and
 * texts of Linux {@code drivers/iommu/intel/dmar.c dma_remap_fault_reasons[]}
 * (the VT-d specification's table of non-recoverable faults, 7.1.3).
 */
public enum FaultReason {
    /** 0x1: the bus's root entry is not present. */
    ROOT_NOT_PRESENT(0x1, "Present bit in root entry is clear"),
    /** 0x2: the device's context entry is not present. */
    CONTEXT_NOT_PRESENT(0x2, "Present bit in context entry is clear"),
    /** 0x3: the context entry is programmed wrong (AW not in SAGAW, reserved TT, ...). */
    INVALID_CONTEXT(0x3, "Invalid context entry"),
    /** 0x4: the address lies beyond min(MGAW, the context entry's AW). */
    BEYOND_MGAW(0x4, "Access beyond MGAW"),
    /** 0x5: a DMA write met a page-table entry without write permission. */
    PTE_WRITE_NOT_SET(0x5, "PTE Write access is not set"),
    /**
     * 0x6: a DMA read met a page-table entry without read permission, which
     * is what a not-present (unmapped) page is.
     */
    PTE_READ_NOT_SET(0x6, "PTE Read access is not set"),
    /** 0x7: a page-table pointer leads beyond the host address width. */
    NEXT_TABLE_INVALID(0x7, "Next page table ptr is invalid"),
    /** 0x8: the root table address leads beyond the host address width. */
    ROOT_TABLE_INVALID(0x8, "Root table address invalid"),
    /** 0x9: the context-table pointer leads beyond the host address width. */
    CONTEXT_TABLE_INVALID(0x9, "Context table ptr is invalid"),
    /** 0xA: reserved bits set in a present root entry. */
    ROOT_RESERVED(0xA, "non-zero reserved fields in RTP"),
    /** 0xB: reserved bits set in a present context entry. */
    CONTEXT_RESERVED(0xB, "non-zero reserved fields in CTP"),
    /** 0xC: reserved bits set in a present second-level paging entry. */
    PTE_RESERVED(0xC, "non-zero reserved fields in PTE"),
    /**
     * 0xD: a translation request or a translated request (PCIe ATS) of a
     * device whose context entry does not allow them: TT is not 1 (device-TLB).
     */
    TRANSLATION_BLOCKED(0xD, "PCE for translation request specifies blocking");

    private final int code;
    private final String text;

    FaultReason(int code, String text) {
        this.code = code;
        this.text = text;
    }

    public int code() {
        return code;
    }

    public String text() {
        return text;
    }
}
