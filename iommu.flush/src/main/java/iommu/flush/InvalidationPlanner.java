package iommu.flush;

import java.util.ArrayList;
import java.util.List;

import iommu.api.DomainId;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;

/** Which invalidations a change needs on one unit, at the finest granularity the unit allows. */
final class InvalidationPlanner {

    /** The domain id hardware in caching mode tags not-present entries with (Xen c5c84e9766, Linux). */
    static final DomainId CACHING_MODE_DID = DomainId.of(0);

    private InvalidationPlanner() {
    }

    /**
     * After a device's context entry changed. Present to not-present or to another
     * domain: the device's cached context entry and the old domain's translations.
     * Not-present to present: nothing unless the unit caches not-present entries
     * (caching mode), then the context entry under DID 0 and the new domain's IOTLB.
     */
    static List<Invalidation> deviceContextChanged(InvalidationCapabilities caps, PciAddress device, DomainId did,
            boolean newlyPresent) {
        if (newlyPresent) {
            if (!caps.cachingMode()) {
                return List.of();
            }
            return List.of(new Invalidation.Device(device, CACHING_MODE_DID), new Invalidation.Domain(did));
        }
        return List.of(new Invalidation.Device(device, did), new Invalidation.Domain(did));
    }

    /**
     * A range of pages: page-selective when the unit supports it and the range,
     * widened to a naturally aligned power of two, fits 2^MAMV pages; else the
     * whole domain (as Linux's iommu_flush_iotlb_psi does).
     */
    static List<Invalidation> pages(InvalidationCapabilities caps, DomainId did, long iova, long pages) {
        int order = alignedOrder(iova, pages);
        if (!caps.pageSelective() || order > caps.maxPageOrder()) {
            return List.of(new Invalidation.Domain(did));
        }
        List<Invalidation> list = new ArrayList<>(1);
        list.add(new Invalidation.Pages(did, aligned(iova, order), order));
        return list;
    }

    /**
     * The device-TLB invalidations after the IOTLB's for a range of pages, one
     * a device, the same naturally aligned block (Linux
     * {@code cache_tag_flush_range}: {@code calculate_psi_aligned_address},
     * then {@code cache_tag_flush_devtlb_psi} for each device-TLB tag). A
     * device-TLB has no CAP.MAMV: the block is never widened to the domain.
     */
    static List<Invalidation> deviceTlbs(List<PciAddress> devices, long iova, long pages) {
        int order = alignedOrder(iova, pages);
        List<Invalidation> list = new ArrayList<>(devices.size());
        for (PciAddress device : devices) {
            list.add(order >= Invalidation.DeviceTlb.ALL ? Invalidation.DeviceTlb.all(device)
                    : new Invalidation.DeviceTlb(device, aligned(iova, order), order));
        }
        return list;
    }

    /** Each device's whole device-TLB (Linux {@code cache_tag_flush_devtlb_all}, {@code MAX_AGAW_PFN_WIDTH}). */
    static List<Invalidation> wholeDeviceTlbs(List<PciAddress> devices) {
        return devices.stream().map(d -> (Invalidation) Invalidation.DeviceTlb.all(d)).toList();
    }

    /** The smallest order whose naturally aligned block holding the range's first page also holds its last. */
    private static int alignedOrder(long iova, long pages) {
        if (pages < 1) {
            throw new IllegalArgumentException("page count " + pages + " out of range: expected at least 1");
        }
        if ((iova & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format("IOVA 0x%x is not 4 KiB aligned", iova));
        }
        long firstPage = iova >>> 12;
        long lastPage = firstPage + pages - 1;
        if (lastPage < firstPage || lastPage >= (1L << 52)) {
            throw new IllegalArgumentException(String.format("range of %d pages from IOVA 0x%x overflows the address space",
                    pages, iova));
        }
        int order = 64 - Long.numberOfLeadingZeros(pages - 1);
        while ((firstPage >>> order) != (lastPage >>> order)) {
            order++;
        }
        return order;
    }

    private static long aligned(long iova, int order) {
        return (iova >>> 12 >>> order << order) << 12;
    }
}
