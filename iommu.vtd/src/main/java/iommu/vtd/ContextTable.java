package iommu.vtd;

/**
 * The driver side's root table and context tables, in the unit's simulated
 * memory with the specification's layouts: a 4 KiB root table of 256 root
 * entries (one per bus), each pointing at a 4 KiB context table of 256
 * context entries (one per device function). Every read goes to memory:
 * there is no copy beside it. A bus's context table is allocated when its
 * first entry is written and kept afterwards, as Linux does. Not
 * thread-safe: the unit guards it.
 */
final class ContextTable {

    private final PhysicalMemory memory;
    private final PageAllocator pages;
    private final long rootTable;

    ContextTable(PhysicalMemory memory, PageAllocator pages) {
        this.memory = memory;
        this.pages = pages;
        this.rootTable = pages.allocate();
    }

    /** Root and context tables found in memory, the root table at {@code rootTable} (a kept table file). */
    ContextTable(PhysicalMemory memory, PageAllocator pages, long rootTable) {
        this.memory = memory;
        this.pages = pages;
        this.rootTable = rootTable;
    }

    /** The root table's physical address, for RTADDR. */
    long rootTableAddress() {
        return rootTable;
    }

    static long rootEntryAddress(long rootTable, int bus) {
        return rootTable + (long) bus * RootEntry.SIZE;
    }

    RootEntry rootEntry(int bus) {
        long address = rootEntryAddress(rootTable, bus);
        return RootEntry.decode(memory.read64(address), memory.read64(address + 8));
    }

    /**
     * The physical address of the source id's context entry, or -1 when its
     * bus has no context table (or the root entry points at no memory).
     */
    long entryAddress(int sourceId) {
        RootEntry root = rootEntry(sourceId >>> 8);
        long address = root.contextTablePointer() + (long) (sourceId & 0xFF) * ContextEntry.SIZE;
        return root.present() && memory.exists(address) ? address : -1;
    }

    /** The source id's context entry as memory holds it; a not-present one when its bus has no context table. */
    ContextEntry read(int sourceId) {
        long address = entryAddress(sourceId);
        if (address < 0) {
            return ContextEntry.decode(0, 0);
        }
        return ContextEntry.decode(memory.read64(address), memory.read64(address + 8));
    }

    /**
     * Writes a present entry: the high quadword first, the low one (with the
     * present bit) last; a present entry being replaced is made not present
     * first, so the hardware never fetches a half-written one.
     */
    void write(int sourceId, ContextEntry entry) {
        if (!entry.present()) {
            throw new IllegalArgumentException("write a present entry, or clear it");
        }
        int bus = sourceId >>> 8;
        RootEntry root = rootEntry(bus);
        if (!root.present()) {
            long table = pages.allocate();
            long address = rootEntryAddress(rootTable, bus);
            memory.write64(address + 8, 0);
            memory.write64(address, new RootEntry(true, table).low());
        }
        long address = entryAddress(sourceId);
        if ((memory.read64(address) & 1) != 0) {
            memory.write64(address, 0);
        }
        memory.write64(address + 8, entry.high());
        memory.write64(address, entry.low());
    }

    /** Makes the entry not present: the low quadword (present bit) first, then the high one. */
    void clear(int sourceId) {
        long address = entryAddress(sourceId);
        if (address < 0) {
            return;
        }
        memory.write64(address, 0);
        memory.write64(address + 8, 0);
    }
}
