package iommu.vtd;

/**
 * A second-level paging entry (VT-d 9.8): 64 bits, 512 to a 4 KiB table.
 * Read bit 0, write bit 1, super page bit 7 (in a level-2 or level-3 entry,
 * when CAP.SLLPS allows it), address 51:12 (next table or host page). An
 * entry with neither R nor W is not present. Bits 51:HAW are reserved.
 */
final class PageTableEntry {

    private PageTableEntry() {
    }

    static final long READ = 1;
    static final long WRITE = 1L << 1;
    static final long SUPER_PAGE = 1L << 7;
    static final long ADDRESS = 0x000F_FFFF_FFFF_F000L;
    static final int ENTRIES = 512;
    static final int SIZE = 8;

    static long of(long address, boolean read, boolean write) {
        if ((address & ~ADDRESS) != 0) {
            throw new IllegalArgumentException(String.format(
                    "address 0x%x: expected 4 KiB-aligned and below 2^52", address));
        }
        return address | (read ? READ : 0) | (write ? WRITE : 0);
    }

    static boolean present(long pte) {
        return (pte & (READ | WRITE)) != 0;
    }

    static long address(long pte) {
        return pte & ADDRESS;
    }

    /** The index into a level-{@code level} table (1 is the leaf) of the IOVA. */
    static int index(long iova, int level) {
        return (int) ((iova >>> (PhysicalMemory.PAGE_SHIFT + 9 * (level - 1))) & 0x1FF);
    }

    /** Address bits 51:haw, reserved when the host address width is {@code haw}. */
    static long reservedAddressBits(int haw) {
        return haw >= 52 ? 0 : ADDRESS & ~((1L << haw) - 1);
    }
}
