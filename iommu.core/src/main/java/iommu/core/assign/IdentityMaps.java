package iommu.core.assign;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.IovaRegion;

/**
 * The firmware memory of a guest's devices, identity-mapped in the guest's
 * I/O space while it holds one of them, as Xen's {@code intel_iommu_assign_device}
 * does with {@code iommu_identity_mapping} for each RMRR of the device before
 * the device's context entry is written, and {@code reassign_device_ownership}
 * undoes when the device leaves: a region shared by two of the guest's
 * devices stays until the last of them is gone. Only a device attached with
 * the reserved-memory override has such regions (an attach refuses the others).
 *
 * <p>The maps are the guest's ordinary pages (replayed on every unit where it
 * holds a domain id, recorded in the journal), with one rule of their own:
 * every attached device's regions are mapped, which recovery restores when a
 * crash tore an attach's records ({@link #missing}). Not thread-safe; called
 * under the component's lock.
 */
public final class IdentityMaps {

    private final Topology topology;
    private final Attachments attachments;
    private final GuestPages pages;
    private final DomainIdTable table;
    private final FlushService flush;

    /** For reading what is missing or unneeded only ({@link #map} and {@link #unmap} need the map and flush). */
    public IdentityMaps(Topology topology, Attachments attachments, GuestPages pages) {
        this(topology, attachments, pages, null, null);
    }

    public IdentityMaps(Topology topology, Attachments attachments, GuestPages pages, DomainIdTable table,
            FlushService flush) {
        this.topology = topology;
        this.attachments = attachments;
        this.pages = pages;
        this.table = table;
        this.flush = flush;
    }

    /** The region as one identity run, page-aligned outward. */
    public static GuestMappings.Run runOf(IovaRegion r) {
        long first = r.first() >>> 12;
        return new GuestMappings.Run(first, first, (r.last() >>> 12) - first + 1);
    }

    /** Maps the runs to themselves on every unit where the guest holds a domain id, and records them as its pages. */
    public void map(GuestId guest, List<GuestMappings.Run> runs, UndoLog undo) {
        for (GuestMappings.Run run : runs) {
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = topology.unit(unitId);
                if (unit != null) {
                    unit.map(guest, run.iova(), run.hostAddress(), run.pages());
                    undo.push(() -> unit.unmap(guest, run.iova(), run.pages()));
                }
            }
            pages.add(guest, run.iova(), run.hostAddress(), run.pages());
            undo.push(() -> pages.remove(guest, run.iova(), run.pages()));
            // whatever a unit cached of these pages (not present, in caching mode) goes, and so on undo
            flush.flushPages(guest, run.iova(), run.pages());
            undo.push(() -> flush.flushPages(guest, run.iova(), run.pages()));
        }
    }

    /** Takes the runs off every unit where the guest holds a domain id and out of its pages, then flushes them. */
    public void unmap(GuestId guest, List<GuestMappings.Run> runs, UndoLog undo) {
        for (GuestMappings.Run run : runs) {
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = topology.unit(unitId);
                if (unit != null) {
                    unit.unmap(guest, run.iova(), run.pages());
                    undo.push(() -> unit.map(guest, run.iova(), run.hostAddress(), run.pages()));
                }
            }
            pages.remove(guest, run.iova(), run.pages());
            undo.push(() -> pages.add(guest, run.iova(), run.hostAddress(), run.pages()));
            flush.flushPages(guest, run.iova(), run.pages());
        }
    }

    /** Whether the region is firmware memory the device DMAs to (VT-d RMRR, AMD-Vi IVMD), not the interrupt window. */
    public static boolean isFirmwareMemory(IovaRegion region) {
        return region.type() != IovaRegion.Type.MSI;
    }

    /** The device's firmware memory as identity runs (IOVA = host address), page-aligned outward. */
    public static List<GuestMappings.Run> runsOf(IommuUnit unit, PciAddress device) {
        List<GuestMappings.Run> runs = new ArrayList<>();
        for (IovaRegion r : unit.reservedRegions(device)) {
            if (isFirmwareMemory(r)) {
                runs.add(runOf(r));
            }
        }
        return runs;
    }

    /** Whether every page of the run is mapped to itself in the guest's space. */
    public static boolean isMapped(GuestMappings mapped, GuestMappings.Run run) {
        if (mapped == null) {
            return false;
        }
        long next = run.iovaPage();
        for (GuestMappings.Run r : mapped.coalesced()) {
            if (r.endPage() <= next || r.iovaPage() >= run.endPage()) {
                continue;
            }
            if (r.iovaPage() > next || r.hostPage() != r.iovaPage()) {
                return false;
            }
            next = r.endPage();
            if (next >= run.endPage()) {
                return true;
            }
        }
        return false;
    }

    /** The regions of the devices (each on its unit) that the guest does not map to themselves yet, each once. */
    public List<GuestMappings.Run> missing(GuestId guest, Map<PciAddress, String> unitOf) {
        Set<GuestMappings.Run> wanted = new LinkedHashSet<>();
        GuestMappings mapped = pages.of(guest);
        for (Map.Entry<PciAddress, String> e : unitOf.entrySet()) {
            PciAddress device = e.getKey();
            IommuUnit unit = topology.unit(e.getValue());
            if (unit == null) {
                continue;
            }
            for (GuestMappings.Run run : runsOf(unit, device)) {
                if (!isMapped(mapped, run)) {
                    wanted.add(run);
                }
            }
        }
        return List.copyOf(wanted);
    }

    /**
     * The regions of the leaving devices that none of the guest's other
     * devices needs: they go with them (Xen {@code reassign_device_ownership}).
     */
    public List<GuestMappings.Run> unneeded(GuestId guest, Collection<PciAddress> leaving) {
        Set<GuestMappings.Run> kept = new LinkedHashSet<>();
        for (var held : attachments.of(guest).entrySet()) {
            IommuUnit unit = topology.unit(held.getKey());
            for (PciAddress device : held.getValue()) {
                if (unit != null && !leaving.contains(device)) {
                    kept.addAll(runsOf(unit, device));
                }
            }
        }
        Set<GuestMappings.Run> gone = new LinkedHashSet<>();
        GuestMappings mapped = pages.of(guest);
        for (PciAddress device : leaving) {
            Attachment a = attachments.get(device);
            IommuUnit unit = a == null ? null : topology.unit(a.unitId());
            if (unit == null) {
                continue;
            }
            for (GuestMappings.Run run : runsOf(unit, device)) {
                if (!kept.contains(run) && isMapped(mapped, run)) {
                    gone.add(run);
                }
            }
        }
        return List.copyOf(gone);
    }

    /** The firmware region of a device the guest holds that the range touches, or null. */
    public Held heldRegionIn(GuestId guest, long iova, long count) {
        for (var held : attachments.of(guest).entrySet()) {
            IommuUnit unit = topology.unit(held.getKey());
            if (unit == null) {
                continue;
            }
            for (PciAddress device : held.getValue()) {
                for (IovaRegion r : unit.reservedRegions(device)) {
                    if (isFirmwareMemory(r) && r.overlaps(iova, count)) {
                        return new Held(device, r);
                    }
                }
            }
        }
        return null;
    }

    /** A device of the guest and one of its firmware regions. */
    public record Held(PciAddress device, IovaRegion region) {
    }
}
