package iommu.vtd;

import java.util.HashMap;
import java.util.Map;

/**
 * The ATS-capable devices below one unit, as the unit's hardware meets
 * them: each one's ATS Enable bit (ATS Control register, which the driver
 * sets once the device's context entry lets translation requests through,
 * TT=1, and clears when it stops doing so, as Linux's
 * {@code iommu_enable_pci_caps} and {@code iommu_disable_pci_caps} bracket
 * an attachment), its device-TLB, and whether it answers invalidation
 * requests. Clearing Enable leaves the device-TLB as it is: only a device-TLB
 * invalidation drops what it holds (Linux invalidates it explicitly when it
 * clears a context, {@code intel_context_flush_no_pasid}).
 *
 * <p>A DMA of a device with ATS enabled goes through its device-TLB: a hit
 * becomes a translated request (the host address), which the unit lets
 * through without translating when the context entry has TT=1; a miss
 * becomes a translation request, which the unit translates as an
 * untranslated one (context cache, IOTLB, page walk) and whose result fills
 * the device-TLB. Not thread-safe: the unit guards it.
 */
final class AtsEndpoints {

    private static final class Endpoint {
        final DeviceTlb tlb;
        boolean enabled;
        boolean answers = true;

        Endpoint(int capacity) {
            this.tlb = new DeviceTlb(capacity);
        }
    }

    private final int capacity;
    private final Map<Integer, Endpoint> bySourceId = new HashMap<>();

    /** @param capacity the entries of each device's device-TLB */
    AtsEndpoints(int capacity) {
        this.capacity = capacity;
    }

    private Endpoint endpoint(int sourceId) {
        return bySourceId.computeIfAbsent(sourceId, sid -> new Endpoint(capacity));
    }

    /** The driver sets or clears the device's ATS Enable bit. */
    void enable(int sourceId, boolean enabled) {
        if (enabled) {
            endpoint(sourceId).enabled = true;
        } else {
            Endpoint e = bySourceId.get(sourceId);
            if (e != null) {
                e.enabled = false;
            }
        }
    }

    boolean enabled(int sourceId) {
        Endpoint e = bySourceId.get(sourceId);
        return e != null && e.enabled;
    }

    /** Test hook: the device answers device-TLB invalidation requests, or lets them time out. */
    void answers(int sourceId, boolean answers) {
        endpoint(sourceId).answers = answers;
    }

    /** How many translations the device's device-TLB holds. */
    int entries(int sourceId) {
        Endpoint e = bySourceId.get(sourceId);
        return e == null ? 0 : e.tlb.size();
    }

    /**
     * A device-TLB invalidation request reaching the device: it drops the
     * range and answers; false when it does not answer (the request times
     * out, and drops nothing). A device without ATS holds nothing and answers
     * at once, as QEMU's {@code vtd_process_device_iotlb_desc} does for a
     * source id without an address space.
     */
    boolean invalidate(int sourceId, long page, int order) {
        Endpoint e = bySourceId.get(sourceId);
        if (e == null) {
            return true;
        }
        if (!e.answers) {
            return false;
        }
        e.tlb.invalidate(page, order);
        return true;
    }

    /** The device's DMA as it reaches the unit: untranslated without ATS, through its device-TLB with. */
    VtdHardware.Result dma(VtdHardware hardware, int sourceId, long iova, boolean write) {
        Endpoint e = bySourceId.get(sourceId);
        if (e == null || !e.enabled) {
            return hardware.translate(sourceId, iova, write, VtdHardware.Request.UNTRANSLATED);
        }
        long page = iova >>> PhysicalMemory.PAGE_SHIFT;
        Iotlb.Entry cached = e.tlb.lookup(page);
        if (cached == null || !(write ? cached.write() : cached.read())) {
            VtdHardware.Result granted = hardware.translate(sourceId, iova, write,
                    VtdHardware.Request.TRANSLATION);
            if (granted.isFault()) {
                return granted;
            }
            cached = new Iotlb.Entry(granted.hostAddress() >>> PhysicalMemory.PAGE_SHIFT, granted.read(),
                    granted.write());
            e.tlb.fill(page, cached);
        }
        long host = cached.hostPage() << PhysicalMemory.PAGE_SHIFT | (iova & (PhysicalMemory.PAGE_SIZE - 1));
        return hardware.translate(sourceId, host, write, VtdHardware.Request.TRANSLATED);
    }
}
