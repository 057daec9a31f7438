package iommu.core.assign;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.AllocationCounters.Counter;

/**
 * Attach, detach, map and unmap, each all or nothing: what a failed call did
 * is undone ({@link UndoLog}), and what it did is recorded before it returns.
 * A domain id comes from the allocator for the device's own unit, is shared by
 * the guest's devices there, and goes back only after the guest's last device
 * there left and the unit's caches were invalidated ({@link Quarantine}).
 * Not thread-safe; called under the component's lock.
 */
public final class Operations {

    private final DomainIdTable table;
    private final FlushService flush;
    private final Topology topology;
    private final Attachments attachments;
    private final GuestPages pages;
    private final Quarantine quarantine;
    private final AllocationCounters counters;
    private final Recorder recorder;
    private final IdentityMaps identityMaps;
    private final RegionRules regions;

    private final HostDomain host;
    private final DeviceQuarantine quarantined;
    private final QuarantineRelease release;

    /** Without a host domain (the seed's accounting). */
    public Operations(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            GuestPages pages, Quarantine quarantine, AllocationCounters counters, Recorder recorder) {
        this(table, flush, topology, attachments, pages, quarantine, counters, recorder,
                new HostDomain(HostDomain.Mode.NONE), new DeviceQuarantine(DeviceQuarantine.Mode.NONE));
    }

    public Operations(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            GuestPages pages, Quarantine quarantine, AllocationCounters counters, Recorder recorder, HostDomain host,
            DeviceQuarantine quarantined) {
        this.host = host;
        this.quarantined = quarantined;
        this.release = new QuarantineRelease(topology, attachments, quarantined, host, flush, recorder);
        this.table = table;
        this.flush = flush;
        this.topology = topology;
        this.attachments = attachments;
        this.pages = pages;
        this.quarantine = quarantine;
        this.counters = counters;
        this.recorder = recorder;
        this.identityMaps = new IdentityMaps(topology, attachments, pages, table, flush);
        this.regions = new RegionRules(topology, attachments, pages, table, identityMaps);
    }

    /** Attaches every device to the guest, or none. */
    public void attach(DomainIdAllocator allocator, GuestId guest, Set<PciAddress> wanted, boolean allowReservedMemory) {
        Map<PciAddress, String> unitOf = new LinkedHashMap<>();
        for (PciAddress device : wanted) {
            Attachment existing = attachments.get(device);
            if (existing != null) {
                throw new IommuException(existing.guest().equals(guest)
                        ? "device " + device + " is already attached to guest " + guest
                        : "device " + device + " is attached to guest " + existing.guest() + ": detach it first");
            }
            String unitId = topology.resolve(device);
            if (!allowReservedMemory && topology.unit(unitId).hasReservedMemory(device)) {
                throw new IommuException("device " + device + " has firmware-reserved memory (RMRR/IVMD) that it may "
                        + "DMA to at any time: attaching it needs the reserved-memory override");
            }
            if (quarantine.holdsGuest(unitId, guest)) {
                throw new IommuException("guest " + guest + "'s previous domain id on unit " + unitId
                        + " awaits an invalidation that failed: retry once the unit completes invalidations");
            }
            requireWholeGroup(device, wanted, "attached", "attach --group " + guest + " " + device);
            regions.requireNoPagesIn(guest, device, topology.unit(unitId));
            unitOf.put(device, unitId);
        }
        UndoLog undo = new UndoLog();
        try {
            // the devices' firmware memory is mapped before their entries are (Xen intel_iommu_assign_device)
            List<GuestMappings.Run> identity = identityMaps.missing(guest, unitOf);
            identityMaps.map(guest, identity, undo);
            for (Map.Entry<PciAddress, String> e : unitOf.entrySet()) {
                attachOne(allocator, guest, e.getKey(), e.getValue(), undo);
            }
            // the aliases the groups' DMA also carries get the guest's entry too
            programAliases(unitOf.keySet().stream().map(attachments::get).toList(), undo);
            // durable before it is acknowledged
            recorder.attached(unitOf.keySet().stream().map(attachments::get).toList(), guest, identity);
            quarantined.removeAll(unitOf.keySet()); // out of quarantine: the journal's attach says so too
        } catch (RuntimeException e) {
            undo.rollBack(e);
            throw e instanceof IommuException ie ? ie : new IommuException(OneLine.of(e), e);
        }
    }

    private void attachOne(DomainIdAllocator allocator, GuestId guest, PciAddress device, String unitId, UndoLog undo) {
        IommuUnit unit = topology.present(unitId);
        Optional<DomainId> held = table.domainId(guest, unitId);
        DomainId did;
        if (held.isPresent()) {
            did = held.get();
        } else {
            try {
                did = allocator.allocate(guest, unitId);
            } catch (RuntimeException e) {
                counters.count(unitId, Counter.FAILURES);
                throw e;
            }
            counters.count(unitId, Counter.ALLOCATIONS);
            table.put(guest, unitId, did);
            DomainId allocated = did;
            undo.push(() -> {
                table.remove(guest, unitId, allocated);
                quarantine.releaseOrHold(allocator, guest, unitId, allocated);
            });
            // the guest reaches this unit for the first time: its I/O space comes along (undone even when the
            // replay fails half way, a table page that cannot be had: no page stays where no entry points)
            undo.push(() -> pages.drop(guest, unit));
            pages.replay(guest, unit);
        }
        writeOverHost(unit, unitId, device, new DeviceContext(did, guest), undo);
        attachments.record(new Attachment(device, guest, unitId, did));
        undo.push(() -> attachments.forget(device));
    }

    /**
     * A group is owned whole (DESIGN 7.8): the operation must name every
     * member of the device's group, and none may be another guest's.
     */
    private void requireWholeGroup(PciAddress device, Set<PciAddress> wanted, String verb, String whole) {
        Group group = topology.group(device);
        List<PciAddress> missing = group.others(device).stream().filter(m -> !wanted.contains(m)).toList();
        if (missing.isEmpty()) {
            return;
        }
        Attachment a = attachments.get(device);
        for (PciAddress m : missing) {
            Attachment other = attachments.get(m);
            if (other != null && (a == null || !other.guest().equals(a.guest()))) {
                throw new IommuException("device " + device + " is in IOMMU group " + group.number() + " with " + m
                        + ", which guest " + other.guest() + " holds: a group has one owner (detach --group " + m
                        + " first)");
            }
        }
        throw new IommuException("device " + device + " is in IOMMU group " + group.number() + " with "
                + String.join(", ", missing.stream().map(PciAddress::toString).toList()) + ": a group is " + verb
                + " whole (" + whole + ", or name every member: " + String.join(" ", group.members().stream()
                        .map(PciAddress::toString).toList()) + ")");
    }

    /** Every alias requester id of the new attachments' groups gets their entry (their own ids have it). */
    private void programAliases(List<Attachment> attached, UndoLog undo) {
        for (Attachment e : topology.entries(attached)) {
            if (attachments.contains(e.device())) {
                continue;
            }
            writeOverHost(topology.present(e.unitId()), e.unitId(), e.device(), e.context(), undo);
        }
    }

    /**
     * The guest's entry written over the host domain's, in place (Xen's
     * direct re-assignment, XSA-400; Linux replaces the default domain's),
     * then the device's context cache and the host id's IOTLB invalidated; or,
     * with no host domain, over a not-present entry (caching mode then needs
     * the not-present-to-present flush).
     */
    private void writeOverHost(IommuUnit unit, String unitId, PciAddress id, DeviceContext context, UndoLog undo) {
        // a quarantined id has no entry; a host-owned one has the host domain's
        Optional<DeviceContext> before = quarantined.entryIds(unit).contains(id) ? Optional.empty()
                : host.context(unitId);
        unit.setContext(id, context);
        undo.push(() -> {
            if (before.isPresent()) {
                unit.setContext(id, before.get());
            } else {
                unit.clearContext(id);
            }
            flush.flushDeviceContext(unitId, id, context.domainId(), false);
        });
        if (before.isPresent()) {
            flush.flushDeviceContext(unitId, id, before.get().domainId(), false);
        } else {
            flush.flushDeviceContext(unitId, id, context.domainId(), true);
        }
    }

    /**
     * Detaches every device, or none: every entry is cleared, then the
     * invalidations are awaited; only then may ids go back.
     *
     * @param allocator the bound strategy's, or null while none is bound (ids then stay taken in no bitmap)
     */
    public void detach(DomainIdAllocator allocator, Set<PciAddress> wanted) {
        List<Attachment> leaving = new ArrayList<>();
        for (PciAddress device : wanted) {
            Attachment a = attachments.get(device);
            if (a == null) {
                throw new IommuException(topology.knows(device)
                        ? "device " + device + " is not attached to any guest"
                        : "unknown device " + device + ": no IOMMU unit translates it (see iommu:devices)");
            }
            if (!topology.isPresent(a.unitId())) {
                throw new IommuException("unit " + a.unitId() + " of device " + device
                        + " is not present: its context entry cannot be cleared now");
            }
            requireWholeGroup(device, wanted, "detached", "detach --group " + device);
            leaving.add(a);
        }
        UndoLog undo = new UndoLog();
        try {
            // every entry the groups hold, alias ids included, before any id goes back
            if (quarantined.mode() == DeviceQuarantine.Mode.BASIC) {
                // quarantine (Xen iommu=quarantine): no translation at all until the host takes them back
                ContextEntries.clearAndFlush(topology.entries(leaving), topology, flush, undo);
            } else {
                ContextEntries.returnAndFlush(topology.entries(leaving), host, topology, flush, undo);
            }
            // then the firmware memory no device of the guest still needs (Xen reassign_device_ownership)
            Map<GuestId, List<GuestMappings.Run>> unneeded = new LinkedHashMap<>();
            for (GuestId guest : leaving.stream().map(Attachment::guest).distinct().toList()) {
                List<GuestMappings.Run> runs = identityMaps.unneeded(guest, leaving.stream()
                        .filter(a -> a.guest().equals(guest)).map(Attachment::device).toList());
                identityMaps.unmap(guest, runs, undo);
                if (!runs.isEmpty()) {
                    unneeded.put(guest, runs);
                }
            }
            Map<PciAddress, String> toQuarantine = new LinkedHashMap<>();
            if (quarantined.mode() == DeviceQuarantine.Mode.BASIC) {
                leaving.forEach(a -> toQuarantine.put(a.device(), a.unitId()));
            }
            recorder.detached(leaving.stream().map(Attachment::device).toList(), unneeded, toQuarantine);
            toQuarantine.forEach(quarantined::add);
        } catch (RuntimeException e) {
            undo.rollBack(e);
            throw new IommuException("detach failed, nothing changed: " + OneLine.of(e), e);
        }
        for (Attachment a : leaving) {
            attachments.forget(a.device());
            if (attachments.of(a.guest(), a.unitId()).isEmpty()) {
                pages.drop(a.guest(), topology.unit(a.unitId()));
                table.remove(a.guest(), a.unitId(), a.domainId());
                quarantine.releaseFlushed(allocator, a.guest(), a.unitId(), a.domainId());
            }
        }
    }

    /** Gives quarantined devices back to the host ({@link QuarantineRelease}). */
    public void release(Set<PciAddress> wanted) {
        release.release(wanted);
    }

    /** Maps the pages on every unit where the guest holds a domain id, or on none. */
    public void map(GuestId guest, long iova, long hostAddress, long count) {
        // a reserved region first: the guest's identity maps of firmware memory lie there too
        regions.requireOutside(guest, iova, count);
        GuestMappings existing = pages.of(guest);
        GuestMappings.Run overlap = existing == null ? null : existing.overlap(iova, count);
        if (overlap != null) {
            throw new IommuException(String.format("guest %s already maps %d pages at IOVA 0x%x: unmap them first",
                    guest, overlap.pages(), overlap.iova()));
        }
        // recorded before any table has the pages: a unit's kept tables never map what the journal
        // does not (a kill before the tables are written replays the map, which was not acknowledged)
        recorder.mapped(guest, iova, hostAddress, count);
        UndoLog undo = new UndoLog();
        boolean cachingMode = false;
        try {
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = topology.unit(unitId);
                if (unit == null) {
                    continue; // written when the unit returns
                }
                unit.map(guest, iova, hostAddress, count);
                undo.push(() -> unit.unmap(guest, iova, count));
                cachingMode |= unit.invalidationCapabilities().cachingMode();
            }
            if (cachingMode) {
                // a unit in caching mode may have cached the pages as not present
                flush.flushPages(guest, iova, count);
            }
        } catch (RuntimeException e) {
            undo.rollBack(e);
            recorder.mapUndone(guest, iova, count);
            throw e instanceof IommuException ie ? ie : new IommuException(OneLine.of(e), e);
        }
        pages.add(guest, iova, hostAddress, count);
    }

    /** Unmaps the pages everywhere and waits for their invalidation; pages not mapped are skipped. */
    public void unmap(GuestId guest, long iova, long count) {
        GuestMappings guestMappings = pages.of(guest);
        if (guestMappings == null || guestMappings.overlap(iova, count) == null) {
            return;
        }
        regions.requireNoFirmwareMap(guest, iova, count);
        for (var held : table.domainsOf(guest).entrySet()) {
            if (!topology.isPresent(held.getKey())) {
                // its tables (kept in a file, say) may still map the pages: unmapping waits for it
                throw new IommuException("unit " + held.getKey() + ", where guest " + guest + " holds domain id "
                        + held.getValue() + ", is not present: its tables cannot be unmapped now");
            }
        }
        // recorded before any table loses the pages: a journal that cannot take it (a full disk) fails the unmap
        // with nothing changed, and a kill before the tables are written is told apart by the journal at restart
        recorder.unmapped(guest, iova, count);
        for (String unitId : table.domainsOf(guest).keySet()) {
            IommuUnit unit = topology.unit(unitId);
            if (unit != null) {
                unit.unmap(guest, iova, count);
            }
        }
        // the pages are gone from the tables, and the journal says so whatever the flush does
        pages.remove(guest, iova, count);
        try {
            // they are gone from the caches once this returns
            flush.flushPages(guest, iova, count);
        } catch (RuntimeException e) {
            throw new IommuException(String.format("unmap of %d pages at IOVA 0x%x of guest %s: the pages are"
                    + " unmapped, but their invalidation failed, so a unit may still cache them until a flush of"
                    + " the guest succeeds (iommu:flush %s): %s", count, iova, guest, guest, OneLine.of(e)), e);
        }
    }

    /** A guest id an operation may take: never the host's. */
    public static void requireGuest(GuestId guest) {
        if (guest == null || guest.isHost()) {
            throw new IommuException("guest 0 is the host, which owns every unattached device: expected a guest id 1.."
                    + GuestId.MAX);
        }
    }

    /** The devices given, each once, at least one. */
    public static Set<PciAddress> distinct(List<PciAddress> devices) {
        if (devices == null || devices.isEmpty()) {
            throw new IommuException("no device given: expected at least one PCI address SSSS:BB:DD.F");
        }
        Set<PciAddress> set = new LinkedHashSet<>();
        for (PciAddress d : devices) {
            if (!set.add(d)) {
                throw new IommuException("device " + d + " is given twice");
            }
        }
        return set;
    }
}
