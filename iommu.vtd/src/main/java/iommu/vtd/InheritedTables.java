package iommu.vtd;

import iommu.api.GuestId;

/**
 * A unit coming up on the tables a previous run kept in its table file, as a
 * kdump kernel inherits the tables of the kernel that crashed (Linux's
 * {@code copy_translation_tables}): the driver's bookkeeping (guest tables'
 * references, the page allocator) rebuilt from what the tables reach, each
 * present context entry checked, and the ATS Enable bit of each device
 * whose entry has TT=1 set again, as the crashed kernel's driver had it.
 */
final class InheritedTables {

    private final ContextTable contexts;
    private final IoPageTables pageTables;
    private final PageAllocator pages;
    private final AtsEndpoints endpoints;
    private final ExtendedCapability ecap;
    private final int addressWidth;
    private final int domainIdCount;

    InheritedTables(ContextTable contexts, IoPageTables pageTables, PageAllocator pages, AtsEndpoints endpoints,
            ExtendedCapability ecap, int addressWidth, int domainIdCount) {
        this.contexts = contexts;
        this.pageTables = pageTables;
        this.pages = pages;
        this.endpoints = endpoints;
        this.ecap = ecap;
        this.addressWidth = addressWidth;
        this.domainIdCount = domainIdCount;
    }

    /**
     * Rebuilds the driver's bookkeeping from the tables in the file: the guest
     * directory's tables walked, each root entry's context table, each present
     * context entry checked and counted on its guest's table; what nothing
     * reaches is free, and so is a guest's table no present entry points at.
     * Nothing is written but zeros to unreachable pages.
     */
    int adopt(TableFile file) {
        String where = "table file " + file.path() + " refused: ";
        java.util.Set<Long> used = new java.util.HashSet<>();
        used.add(contexts.rootTableAddress());
        try {
            file.guestRoots().forEach((guest, root) -> pageTables.inherit(guest, root, pages::inRegion, used));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage() + ": expected the tables this platform wrote", e);
        }
        int present = 0;
        for (int bus = 0; bus < 256; bus++) {
            RootEntry root = contexts.rootEntry(bus);
            if (!root.present()) {
                continue;
            }
            long table = root.contextTablePointer();
            if (!pages.inRegion(table) || !used.add(table)) {
                throw new IllegalArgumentException(String.format("%sroot entry of bus %02x points at 0x%x, %s:"
                        + " expected a context table of its own in the table region", where, bus, table,
                        pages.inRegion(table) ? "a page already in use" : "outside the table region"));
            }
            for (int devfn = 0; devfn < 256; devfn++) {
                int sid = bus << 8 | devfn;
                ContextEntry entry = contexts.read(sid);
                if (!entry.present()) {
                    continue;
                }
                String problem = null;
                boolean passThrough = entry.translationType() == ContextEntry.TT_PASS_THROUGH
                        && ecap.passThrough();
                boolean deviceTlb = entry.translationType() == ContextEntry.TT_DEVICE_TLB
                        && ecap.deviceTlb();
                java.util.Optional<GuestId> guest = passThrough ? java.util.Optional.of(GuestId.HOST)
                        : pageTables.guestAt(entry.secondLevelPointer());
                if ((entry.translationType() != ContextEntry.TT_UNTRANSLATED && !passThrough && !deviceTlb)
                        || entry.addressWidth() != addressWidth) {
                    problem = String.format("TT %d, AW %d: expected TT 0 (1 with ECAP.DT, 2 with ECAP.PT) and AW %d",
                            entry.translationType(), entry.addressWidth(), addressWidth);
                } else if (entry.domainId() == 0 || entry.domainId() >= domainIdCount) {
                    problem = String.format("domain id %d: expected 1..%d", entry.domainId(), domainIdCount - 1);
                } else if (guest.isEmpty()) {
                    problem = String.format("SLPTPTR 0x%x: expected the root of a guest's table in the file's"
                            + " guest directory", entry.secondLevelPointer());
                }
                if (problem != null) {
                    throw new IllegalArgumentException(String.format("%sthe context entry of source id %02x:%02x.%d"
                            + " holds %s", where, bus, devfn >>> 3, devfn & 7, problem));
                }
                if (!passThrough) {
                    pageTables.reference(guest.get());
                }
                endpoints.enable(sid, deviceTlb); // the driver of the crashed kernel had enabled ATS
                if (!guest.get().isHost()) {
                    present++; // the guests' entries: the host domain's are rewritten as the core configures it
                }
            }
        }
        pages.inherit(used);
        for (GuestId guest : pageTables.guests()) {
            pageTables.releaseIfUnreferenced(guest); // no entry reaches it: what a killed attach or detach left
        }
        return present;
    }
}
