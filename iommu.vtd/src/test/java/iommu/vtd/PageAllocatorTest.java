package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The table-page allocator, fresh and taking over a region kept from a killed process. */
class PageAllocatorTest {

    static final long BASE = 0x40_0000_0000L;

    private static long page(int n) {
        return BASE + ((long) n << PhysicalMemory.PAGE_SHIFT);
    }

    @Test
    void inheritingKeepsTheUsedPagesAndHandsOutOnlyZeroedOthers() {
        PhysicalMemory memory = new PhysicalMemory(52);
        PageAllocator pages = new PageAllocator(memory, BASE, 64);
        // what a killed process left: tables at pages 0, 2 and 5; garbage at 1 (below them) and 9 (above)
        for (int n : new int[] {0, 2, 5, 1, 9}) {
            memory.write64(page(n) + 8, 0xDEAD_BEEFL + n);
        }
        pages.inherit(Set.of(page(0), page(2), page(5)));
        assertThat(pages.pagesInUse()).isEqualTo(3);
        assertThat(memory.read64(page(2) + 8)).isEqualTo(0xDEAD_BEEFL + 2); // a table: untouched

        Set<Long> handedOut = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            long address = pages.allocate();
            assertThat(memory.read64(address + 8)).as("page 0x%x", address).isZero();
            handedOut.add(address);
        }
        assertThat(handedOut).containsExactlyInAnyOrder(page(1), page(3), page(4), page(6), page(7), page(8),
                page(9), page(10));
        assertThat(pages.pagesInUse()).isEqualTo(11);
    }

    @Test
    void inheritingAPageOutsideTheRegionIsRefused() {
        PageAllocator pages = new PageAllocator(new PhysicalMemory(52), BASE, 64);
        assertThatThrownBy(() -> pages.inherit(Set.of(page(64))))
                .hasMessage("page 0x4000040000 is not a page of the region");
        assertThatThrownBy(() -> pages.inherit(Set.of(page(1) + 8)))
                .hasMessage("page 0x4000001008 is not a page of the region");
    }
}
