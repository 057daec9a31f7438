package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue 15's device-TLBs through the launcher, on the default platform,
 * whose SR-IOV NICs have ATS below the DMAR's ATSR root ports: a VF's
 * context entry has TT=1, its DMA fills its device-TLB, an unmap invalidates
 * it after the IOTLB (so the DMA faults), and {@code stats} counts it.
 */
class AtsIT {

    @Test
    void anAtsVfsDeviceTlbFillsAndAnUnmapInvalidatesIt() throws Exception {
        IommuJarIT.Run r = IommuJarIT.run("-c", "attach 1 0000:18:10.0; map 1 0x10000 0x4000000 4;"
                + " translate 0000:18:10.0 0x11000; ctx 0000:18:10.0; unmap 1 0x10000 4;"
                + " translate 0000:18:10.0 0x11000; stats");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsSubsequence(
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x11000 -> host 0x4001000",
                "  TT                1", "  ATS               enabled", "  deviceTlbEntries  1",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x11000 -> fault 0x6",
                "INV-DEVTLB");
        // attach (the host domain's entry replaced) and unmap: two device-TLB invalidations on dmar0
        assertThat(r.out()).containsPattern("dmar0 +256 +2 +1 +253 +1 +0 +0 +0 +1 +1 +1 +2 +0")
                .contains("performed.device-tlb=2");
    }

    @Test
    void onlyTheNicsUseAts() throws Exception {
        IommuJarIT.Run r = IommuJarIT.run("-c", "devices; ctx 0000:3c:00.0");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("0000:18:10\\.0 +dmar0 +- +no +\\d+ +yes")
                .containsPattern("0000:3c:00\\.0 +dmar1 +- +no +\\d+ +no")
                .containsPattern("\\n  TT +2\\n"); // the GPU is the host's, in pass-through
    }
}
