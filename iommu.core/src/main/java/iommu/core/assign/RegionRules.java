package iommu.core.assign;

import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.IovaRegion;

/**
 * What the reserved regions of a guest's devices forbid (Linux
 * {@code iommu_get_resv_regions}): no page of the guest's own there, and no
 * unmap of the identity maps of their firmware memory. Each check changes
 * nothing and fails with one line naming the region. Not thread-safe; called
 * under the component's lock.
 */
final class RegionRules {

    private final Topology topology;
    private final Attachments attachments;
    private final GuestPages pages;
    private final DomainIdTable table;
    private final IdentityMaps identityMaps;

    RegionRules(Topology topology, Attachments attachments, GuestPages pages, DomainIdTable table,
            IdentityMaps identityMaps) {
        this.topology = topology;
        this.attachments = attachments;
        this.pages = pages;
        this.table = table;
        this.identityMaps = identityMaps;
    }

    /** No page of the guest lies in a reserved region of the device it is to get. */
    void requireNoPagesIn(GuestId guest, PciAddress device, IommuUnit unit) {
        GuestMappings mapped = pages.of(guest);
        if (mapped == null) {
            return;
        }
        for (IovaRegion r : unit.reservedRegions(device)) {
            if (IdentityMaps.isFirmwareMemory(r) && IdentityMaps.isMapped(mapped, IdentityMaps.runOf(r))) {
                continue; // another device of the guest shares the region: its identity map serves both
            }
            long first = r.first() & ~0xFFFL;
            GuestMappings.Run run = mapped.overlap(first, ((r.last() - first) >>> 12) + 1);
            if (run != null) {
                throw new IommuException(String.format("device %s has the reserved region %s (%s), where guest %s maps"
                        + " %d pages at IOVA 0x%x: unmap them first", device, r, why(r), guest, run.pages(), run.iova()));
            }
        }
    }

    /** The range the guest is to map lies in no reserved region of a device it holds. */
    void requireOutside(GuestId guest, long iova, long count) {
        for (String unitId : table.domainsOf(guest).keySet()) {
            IommuUnit unit = topology.unit(unitId);
            if (unit == null) {
                continue;
            }
            for (PciAddress device : attachments.of(guest, unitId)) {
                for (IovaRegion r : unit.reservedRegions(device)) {
                    if (r.overlaps(iova, count)) {
                        throw new IommuException(String.format("guest %s cannot map IOVA 0x%x-0x%x: it overlaps the"
                                + " reserved region %s of its device %s (%s)", guest, iova, iova + (count << 12) - 1,
                                r, device, why(r)));
                    }
                }
            }
        }
    }

    /** The range the guest is to unmap touches no identity map of its devices' firmware memory. */
    void requireNoFirmwareMap(GuestId guest, long iova, long count) {
        IdentityMaps.Held firmware = identityMaps.heldRegionIn(guest, iova, count);
        if (firmware != null) {
            throw new IommuException(String.format("guest %s cannot unmap IOVA 0x%x-0x%x: it overlaps the identity map"
                    + " of %s, firmware memory its device %s DMAs to at any time; it goes when the device is detached",
                    guest, iova, iova + (count << 12) - 1, firmware.region(), firmware.device()));
        }
    }

    private static String why(IovaRegion r) {
        return r.type() == IovaRegion.Type.MSI ? "DMA there is an interrupt request, never memory"
                : "firmware memory the device may DMA to at any time";
    }
}
