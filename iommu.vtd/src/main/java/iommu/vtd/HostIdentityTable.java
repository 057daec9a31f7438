package iommu.vtd;

import iommu.api.GuestId;

/**
 * The host domain's I/O page table on a unit without ECAP.PT: every page of
 * the host's memory mapped to itself, as Linux's {@code si_domain_init} maps
 * each memblock range 1:1 when {@code hw_pass_through} is 0. The model has
 * no memory map, so the host's memory is taken to be the low 4 GiB but for
 * the interrupt window, which is never memory. Built once, on the first host
 * context entry; the host's table lives beside the guests' ({@link IoPageTables},
 * guest 0).
 */
final class HostIdentityTable {

    /** The pages mapped: [0, 4 GiB) but the interrupt window 0xfee00000-0xfeefffff. */
    static final long FIRST_WINDOW_PAGE = 0xfee00L;
    static final long END_WINDOW_PAGE = 0xfef00L;
    static final long END_PAGE = 1L << 20;

    private HostIdentityTable() {
    }

    /** The identity table's root, built when the unit has none yet. */
    static long rootOn(IoPageTables tables) {
        long root = tables.rootOf(GuestId.HOST);
        if (tables.mappedPages(GuestId.HOST) == 0) {
            tables.map(GuestId.HOST, 0, 0, FIRST_WINDOW_PAGE, true, true);
            tables.map(GuestId.HOST, END_WINDOW_PAGE, END_WINDOW_PAGE, END_PAGE - END_WINDOW_PAGE, true, true);
        }
        return root;
    }
}
