package iommu.flush;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;

class InvalidationPlannerTest {

    static final DomainId DID = DomainId.of(42);
    static final PciAddress DEV = PciAddress.parse("0000:3b:00.1");
    static final InvalidationCapabilities PSI_MAMV_18 = new InvalidationCapabilities(false, true, 18, true);
    static final InvalidationCapabilities NO_PSI = new InvalidationCapabilities(false, false, 0, false);
    static final InvalidationCapabilities CACHING_MODE = new InvalidationCapabilities(true, true, 9, true);

    @Test
    void aClearedOrChangedEntryNeedsTheDeviceContextAndTheOldDomain() {
        assertThat(InvalidationPlanner.deviceContextChanged(PSI_MAMV_18, DEV, DID, false))
                .containsExactly(new Invalidation.Device(DEV, DID), new Invalidation.Domain(DID));
    }

    @Test
    void notPresentToPresentNeedsNothingWithoutCachingMode() {
        assertThat(InvalidationPlanner.deviceContextChanged(PSI_MAMV_18, DEV, DID, true)).isEmpty();
    }

    @Test
    void cachingModeFlushesTheContextUnderDid0AndTheNewDomain() {
        assertThat(InvalidationPlanner.deviceContextChanged(CACHING_MODE, DEV, DID, true))
                .containsExactly(new Invalidation.Device(DEV, DomainId.of(0)), new Invalidation.Domain(DID));
    }

    @Test
    void pageSelectiveForAnAlignedPowerOfTwo() {
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x10000, 16))
                .containsExactly(new Invalidation.Pages(DID, 0x10000, 4));
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x5000, 1))
                .containsExactly(new Invalidation.Pages(DID, 0x5000, 0));
    }

    @Test
    void anUnalignedRangeWidensToTheAlignedBlockHoldingIt() {
        // pages 3..4 straddle the 4-page boundary: the block of 8 from page 0 holds both
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x3000, 2))
                .containsExactly(new Invalidation.Pages(DID, 0x0, 3));
        // 3 pages round up to 4
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x4000, 3))
                .containsExactly(new Invalidation.Pages(DID, 0x4000, 2));
    }

    @Test
    void fallsBackToTheDomainBeyondMamvOrWithoutPsi() {
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0, 1L << 19)).containsExactly(new Invalidation.Domain(DID));
        assertThat(InvalidationPlanner.pages(PSI_MAMV_18, DID, 0, 1L << 18)).containsExactly(new Invalidation.Pages(DID, 0, 18));
        assertThat(InvalidationPlanner.pages(NO_PSI, DID, 0x1000, 1)).containsExactly(new Invalidation.Domain(DID));
    }

    @Test
    void rejectsBadRanges() {
        assertThatThrownBy(() -> InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x1001, 1)).hasMessageContaining("not 4 KiB aligned");
        assertThatThrownBy(() -> InvalidationPlanner.pages(PSI_MAMV_18, DID, 0x1000, 0)).hasMessageContaining("at least 1");
    }
}
