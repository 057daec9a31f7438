package iommu.vtd;

/**
 * The VT-d fault reasons the model reports, with the codes and texts of
 * Linux {@code drivers/iommu/intel/dmar.c dma_remap_fault_reasons[]}
 * (legacy-mode DMA remapping). Only the reasons this model can raise.
 */
public enum FaultReason {
    /** 0x2: the device's context entry is not present. */
    CONTEXT_NOT_PRESENT(0x2, "Present bit in context entry is clear"),
    /** 0x4: the address lies beyond the unit's maximum guest address width. */
    BEYOND_MGAW(0x4, "Access beyond MGAW"),
    /**
     * 0x6: a DMA read met a page-table entry without read permission, which
     * is what a not-present (unmapped) page is. {@code translate} models a read.
     */
    PTE_READ_NOT_SET(0x6, "PTE Read access is not set");

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
