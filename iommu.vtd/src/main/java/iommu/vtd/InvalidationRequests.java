package iommu.vtd;

import java.util.List;

import iommu.api.DomainId;
import iommu.api.spi.Invalidation;

/**
 * The VT-d invalidations each vendor-neutral {@link Invalidation} becomes on
 * a unit, in their descriptor form (the register-based path carries the same
 * records through CCMD and IOTLB/IVA): a device into a device-selective
 * context-cache invalidation (its SID, FM 0, the domain id the entry was
 * tagged with); a domain into a domain-selective IOTLB invalidation; pages
 * into a page-selective one when CAP.PSI is set and the order fits CAP.MAMV,
 * else domain-selective; a device-TLB into a device-TLB invalidate
 * descriptor as Linux's {@code qi_flush_dev_iotlb} writes it; global into
 * global context-cache and IOTLB invalidations.
 */
final class InvalidationRequests {

    private InvalidationRequests() {
    }

    /**
     * Why the unit cannot carry the request out, or null: a domain id beyond
     * its range, a device of another segment, a device-TLB invalidation on a
     * unit without device-TLB invalidation (ECAP.DT with ECAP.QI).
     */
    static String problem(VtdUnit unit, Invalidation inv) {
        if (inv == null) {
            return "unit " + unit.id() + ": null invalidation in batch: expected device, domain, pages, device-tlb"
                    + " or global";
        }
        DomainId did = domainIdOf(inv);
        if (did != null && did.value() >= unit.domainIdCount()) {
            return String.format("unit %s: %s invalidation of domain id %d out of range: expected 0..%d", unit.id(),
                    inv.granularity(), did.value(), unit.domainIdCount() - 1);
        }
        iommu.api.PciAddress device = inv instanceof Invalidation.Device d ? d.device()
                : inv instanceof Invalidation.DeviceTlb t ? t.device() : null;
        if (device != null && device.segment() != unit.segment()) {
            return String.format("unit %s: %s invalidation of %s, on segment %04x: expected a device of segment %04x",
                    unit.id(), inv.granularity(), device, device.segment(), unit.segment());
        }
        ExtendedCapability ecap = unit.extendedCapability();
        if (inv instanceof Invalidation.DeviceTlb t && !(ecap.deviceTlb() && ecap.queuedInvalidation())) {
            return String.format("unit %s: device-TLB invalidation of %s: ECAP.DT %s and ECAP.QI %s: expected both"
                    + " (a device-TLB is invalidated by a queued descriptor only)", unit.id(), t.device(),
                    ecap.deviceTlb() ? "set" : "clear", ecap.queuedInvalidation() ? "set" : "clear");
        }
        return null;
    }

    /** The descriptors of one request on a unit with this CAP, over this inventory (a VF's PF, ATS queue depths). */
    static List<QueuedDescriptor> of(Capability cap, PciInventory inventory, Invalidation inv) {
        if (inv instanceof Invalidation.Device d) {
            return List.of(QueuedDescriptor.ContextCacheInvalidate.of(Registers.GRANULARITY_DEVICE_OR_PAGE,
                    d.domainId().value(), d.device().routingId(), 0));
        } else if (inv instanceof Invalidation.Domain d) {
            return List.of(iotlb(cap, Registers.GRANULARITY_DOMAIN, d.domainId().value(), 0, 0));
        } else if (inv instanceof Invalidation.Pages p) {
            if (cap.pageSelective() && p.order() <= cap.maxAddressMaskValue()) {
                return List.of(iotlb(cap, Registers.GRANULARITY_DEVICE_OR_PAGE, p.domainId().value(), p.iova(),
                        p.order()));
            }
            return List.of(iotlb(cap, Registers.GRANULARITY_DOMAIN, p.domainId().value(), 0, 0));
        } else if (inv instanceof Invalidation.DeviceTlb t) {
            // Linux: pfsid = pci_dev_id(pci_physfn(pdev)); qdep = pci_ats_queue_depth, 32 written as 0
            return List.of(QueuedDescriptor.DeviceTlbInvalidate.of(t.device().routingId(),
                    inventory.scopedAs(t.device()).routingId(), inventory.atsQueueDepth(t.device()), t.iova(),
                    t.order()));
        }
        return List.of(QueuedDescriptor.ContextCacheInvalidate.of(Registers.GRANULARITY_GLOBAL, 0, 0, 0),
                iotlb(cap, Registers.GRANULARITY_GLOBAL, 0, 0, 0));
    }

    /** An IOTLB invalidation, draining reads and writes when CAP.DRD (bit 55) and CAP.DWD (bit 54) say so, as Linux does. */
    static QueuedDescriptor.IotlbInvalidate iotlb(Capability cap, int granularity, int did, long address, int order) {
        long raw = cap.raw();
        return QueuedDescriptor.IotlbInvalidate.of(granularity, Capability.bit(raw, 55), Capability.bit(raw, 54), did,
                address, false, order);
    }

    private static DomainId domainIdOf(Invalidation inv) {
        if (inv instanceof Invalidation.Device d) {
            return d.domainId();
        } else if (inv instanceof Invalidation.Domain d) {
            return d.domainId();
        } else if (inv instanceof Invalidation.Pages p) {
            return p.domainId();
        }
        return null;
    }
}
