package iommu.core.recovery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.osgi.service.log.Logger;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.MappedRange;
import iommu.api.spi.UnitDescriptor;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.ContextEntries;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.GuestPages;
import iommu.core.assign.IdentityMaps;
import iommu.core.assign.OneLine;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;

/**
 * Makes a unit's context entries and the platform's records agree when the
 * unit appears: records of the unit (it came back) are written again, and
 * present entries nobody recorded (the component restarted, or the unit came
 * up on kept tables) are adopted. An entry that conflicts with the map is
 * cleared, and the device returns to the host. Every disagreement is returned,
 * not kept. Not thread-safe; called under the component's lock.
 */
public final class UnitAdoption {

    /**
     * What adopting a unit did: whether entries were adopted (the allocator
     * must learn them), what disagreed, and whether its kept tables were set
     * aside for the records to be written on empty ones (a line saying so).
     */
    public record Result(boolean adoptedAny, List<String> problems, Optional<String> rebuilt) {
    }

    private final DomainIdTable table;
    private final FlushService flush;
    private final Topology topology;
    private final Attachments attachments;
    private final GuestPages pages;
    private final Recorder recorder;
    private final Logger log;

    public UnitAdoption(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            GuestPages pages, Recorder recorder, Logger log) {
        this.table = table;
        this.flush = flush;
        this.topology = topology;
        this.attachments = attachments;
        this.pages = pages;
        this.recorder = recorder;
        this.log = log;
    }

    public Result adopt(IommuUnit unit) {
        List<String> problems = new ArrayList<>();
        writeRecordsAgain(unit, problems);
        boolean adoptedAny = false;
        Set<GuestId> adoptedGuests = new TreeSet<>();
        String unitId = unit.id();
        UnitDescriptor descriptor = topology.descriptor(unitId);
        for (PciAddress device : unit.devices()) {
            if (attachments.contains(device)) {
                continue;
            }
            Optional<DeviceContext> found = unit.context(device);
            if (found.isEmpty() || found.get().isHost()) {
                continue; // the host's: HostDomain writes its entries as the host domain now has them
            }
            GuestId guest = found.get().guest();
            DomainId did = found.get().domainId();
            String conflict = conflict(unitId, descriptor, guest, did);
            if (conflict != null) {
                problem(problems, "unit " + unitId + ": the context entry of " + device + " (guest " + guest
                        + ", domain id " + did + ") conflicts with the map (" + conflict
                        + "): cleared, the device is back with the host");
                try {
                    unit.clearContext(device);
                    flush.flushDeviceContext(unitId, device, did, false);
                } catch (RuntimeException e) {
                    log.error("unit {}: cannot clear the context entry of {}: {}", unitId, device, e.getMessage());
                }
                continue;
            }
            if (table.domainId(guest, unitId).isEmpty()) {
                table.put(guest, unitId, did);
            }
            Attachment adopted = new Attachment(device, guest, unitId, did);
            attachments.record(adopted);
            adoptedAny = true;
            if (recorder.durable() && unit.inheritedTables()) {
                problem(problems, "unit " + unitId + ": its kept tables give " + device + " to guest " + guest
                        + " with domain id " + did + ", which the platform had not recorded; adopted");
            }
            log.info("unit {}: adopted {} attached to guest {} with domain id {}", unitId, device, guest, did);
            record(problems, () -> recorder.attached(List.of(adopted)));
            adoptedGuests.add(guest);
        }
        adoptedGuests.forEach(guest -> adoptMappings(unit, guest, problems));
        Optional<String> rebuilt = unit.tablesSetAside().map(why -> "unit " + unitId + ": " + why
                + "; its tables are rebuilt from the journal");
        rebuilt.ifPresent(log::warn);
        return new Result(adoptedAny, List.copyOf(problems), rebuilt);
    }

    /** The unit came back: the records of its devices, and its guests' pages, are written on it again. */
    private void writeRecordsAgain(IommuUnit unit, List<String> problems) {
        String unitId = unit.id();
        for (PciAddress device : List.copyOf(attachments.onUnit(unitId))) {
            Attachment a = attachments.get(device);
            Optional<DeviceContext> now = unit.context(a.device());
            if (now.isPresent() && now.get().equals(a.context())) {
                continue;
            }
            if (unit.inheritedTables()) {
                problem(problems, "unit " + unitId + ": its kept tables " + now.map(c -> "give " + a.device()
                        + " to guest " + c.guest() + " with domain id " + c.domainId()).orElse("do not have "
                        + a.device()) + "; the platform's record (guest " + a.guest() + ", domain id " + a.domainId()
                        + ") written again");
            }
            try {
                unit.setContext(a.device(), a.context());
                flush.flushDeviceContext(unitId, a.device(), a.domainId(), now.isEmpty());
                log.info("unit {}: context entry of {} written again (guest {}, domain id {})", unitId, a.device(),
                        a.guest(), a.domainId());
            } catch (RuntimeException e) {
                log.error("unit {}: cannot write the context entry of {} again: {}", unitId, a.device(), e.getMessage());
            }
        }
        ContextEntries.writeAliasesAgain(attachments.onUnit(unitId).stream().map(attachments::get).toList(), topology,
                attachments, flush).forEach(p -> problem(problems, p));
        // the guests' pages come back too: on empty tables, and on kept ones, which miss what was mapped
        // while the unit was away (an unmap waits for the unit)
        Set<GuestId> guestsHere = new TreeSet<>();
        for (PciAddress device : attachments.onUnit(unitId)) {
            guestsHere.add(attachments.get(device).guest());
        }
        IdentityMaps identityMaps = new IdentityMaps(topology, attachments, pages);
        for (GuestId guest : guestsHere) {
            restoreIdentityMaps(identityMaps, guest, unitId, problems);
            try {
                pages.replay(guest, unit);
            } catch (RuntimeException e) {
                log.error("unit {}: cannot write the mappings of guest {} again: {}", unitId, guest, e.getMessage());
            }
        }
    }

    /**
     * An attached device's firmware memory is mapped in its guest's space: a
     * crash that tore an attach's records between the attachment and its
     * identity maps, or a detach's between its unmaps and the detachment,
     * leaves the device without them, and they are mapped again here.
     */
    private void restoreIdentityMaps(IdentityMaps identityMaps, GuestId guest, String unitId, List<String> problems) {
        Map<PciAddress, String> held = new LinkedHashMap<>();
        attachments.of(guest, unitId).forEach(d -> held.put(d, unitId));
        List<GuestMappings.Run> missing = identityMaps.missing(guest, held);
        GuestMappings mapped = pages.of(guest);
        for (GuestMappings.Run run : missing) {
            if (mapped != null && mapped.overlap(run.iova(), run.pages()) != null) {
                problem(problems, String.format("unit %s: guest %s maps other pages over the firmware memory at IOVA"
                        + " 0x%x (%d pages) of one of its devices: left as recorded", unitId, guest, run.iova(),
                        run.pages()));
                continue;
            }
            pages.add(guest, run.iova(), run.hostAddress(), run.pages());
            recorder.mapped(guest, List.of(run));
            log.info("unit {}: identity map of firmware memory at IOVA 0x{} ({} pages) of guest {} restored", unitId,
                    Long.toHexString(run.iova()), run.pages(), guest);
        }
    }

    /** Why a present entry cannot be adopted as it is, or null. */
    private String conflict(String unitId, UnitDescriptor descriptor, GuestId guest, DomainId did) {
        Optional<GuestId> holder = table.guest(unitId, did);
        Optional<DomainId> held = table.domainId(guest, unitId);
        if (did.value() >= descriptor.domainIdCount() || descriptor.reserved().contains(did)) {
            return "domain id " + did + " is out of the unit's range or reserved";
        } else if (holder.isPresent() && !holder.get().equals(guest)) {
            return "domain id " + did + " is guest " + holder.get() + "'s";
        } else if (held.isPresent() && !held.get().equals(did)) {
            return "guest " + guest + " holds domain id " + held.get() + " there";
        }
        return null;
    }

    /**
     * A guest adopted from a unit's entries: its pages are taken from the
     * unit's page table too, when the platform has no record of them; a record
     * that the table contradicts is written again over it.
     */
    private void adoptMappings(IommuUnit unit, GuestId guest, List<String> problems) {
        Optional<List<MappedRange>> read;
        try {
            read = unit.mappings(guest);
        } catch (RuntimeException e) {
            problem(problems, "unit " + unit.id() + ": cannot read guest " + guest + "'s mappings: " + OneLine.of(e));
            return;
        }
        if (read.isEmpty()) {
            return; // the unit cannot tell: the journal, if any, brings them back
        }
        GuestMappings found = GuestMappings.of(read.get());
        GuestMappings recorded = pages.of(guest);
        if (recorded == null) {
            if (!found.isEmpty()) {
                pages.put(guest, found);
                log.info("unit {}: adopted {} mapped runs of guest {}", unit.id(), found.runs().size(), guest);
                record(problems, () -> recorder.mapped(guest, found.runs()));
            }
        } else if (!recorded.samePages(found)) {
            problem(problems, "unit " + unit.id() + ": its page table maps guest " + guest + "'s pages otherwise than"
                    + " the platform's record (" + found.coalesced().size() + " runs there, "
                    + recorded.coalesced().size() + " recorded); the record written again");
            try {
                for (GuestMappings.Run r : found.runs()) {
                    unit.unmap(guest, r.iova(), r.pages());
                }
                pages.replay(guest, unit);
                flush.flushGuest(guest);
            } catch (RuntimeException e) {
                problem(problems, "unit " + unit.id() + ": cannot write guest " + guest + "'s mappings again: "
                        + OneLine.of(e));
            }
        }
    }

    /**
     * An adoption the journal cannot take (a full disk) stays: the entry is in
     * the unit's tables, so the next start adopts it again. Reported.
     */
    private void record(List<String> problems, Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            problem(problems, "not recorded, kept as the unit's tables have it: " + OneLine.of(e));
        }
    }

    /** Logged as it is found (the order of the log is the order of events); returned for the state report. */
    private void problem(List<String> problems, String problem) {
        log.warn(problem);
        problems.add(problem);
    }
}
