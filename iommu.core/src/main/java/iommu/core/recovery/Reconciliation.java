package iommu.core.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.ContextEntries;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.GuestPages;
import iommu.core.assign.OneLine;
import iommu.core.assign.Topology;

/**
 * Replays a journal into the present state, restoring attachments whose
 * entries the units lost (a new process, a unit that came back empty), and
 * returns every disagreement between the journal and the units instead of
 * guessing. Not thread-safe; called under the component's lock.
 */
public final class Reconciliation {

    /** What a replay did: attachments restored from the journal, and each disagreement. */
    public record Result(int restored, List<String> problems) {
    }

    private final DomainIdTable table;
    private final FlushService flush;
    private final Topology topology;
    private final Attachments attachments;
    private final GuestPages pages;

    private final DeviceQuarantine quarantined;

    public Reconciliation(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            GuestPages pages) {
        this(table, flush, topology, attachments, pages, new DeviceQuarantine(DeviceQuarantine.Mode.NONE));
    }

    public Reconciliation(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            GuestPages pages, DeviceQuarantine quarantined) {
        this.quarantined = quarantined;
        this.table = table;
        this.flush = flush;
        this.topology = topology;
        this.attachments = attachments;
        this.pages = pages;
    }

    public Result reconcile(Journal.State loaded) {
        List<String> problems = new ArrayList<>();
        int restored = restoreAttachments(loaded, problems);
        problems.addAll(ContextEntries.writeAliasesAgain(List.copyOf(attachments.all()), topology, attachments, flush));
        for (Attachment a : attachments.all()) {
            if (!loaded.attachments.containsKey(a.device())) {
                problems.add("device " + a.device() + " is attached to guest " + a.guest() + " (domain id "
                        + a.domainId() + " on unit " + a.unitId() + ") but the journal does not have it; kept");
            }
        }
        restoreMappings(loaded, problems);
        // the devices the journal has in quarantine stay there (an attached one is the guest's)
        java.util.Map<PciAddress, String> stillQuarantined = new java.util.TreeMap<>(loaded.quarantined);
        stillQuarantined.keySet().removeIf(attachments::contains);
        quarantined.putAll(stillQuarantined);
        for (GuestId guest : pages.all().keySet()) {
            if (!loaded.mappings.containsKey(guest) && !pages.of(guest).isEmpty()) {
                problems.add("guest " + guest + " has pages mapped in the units' page tables (" + pages.of(guest)
                        .coalesced().size() + " runs) that the journal does not have; kept");
            }
        }
        return new Result(restored, List.copyOf(problems));
    }

    private int restoreAttachments(Journal.State loaded, List<String> problems) {
        int restored = 0;
        for (Attachment j : loaded.attachments.values()) {
            Attachment now = attachments.get(j.device());
            if (now != null) {
                if (!now.equals(j)) {
                    problems.add("device " + j.device() + ": the journal has guest " + j.guest() + ", domain id "
                            + j.domainId() + " on unit " + j.unitId() + "; the units have guest " + now.guest()
                            + ", domain id " + now.domainId() + " on unit " + now.unitId() + "; kept the units'");
                }
                continue;
            }
            Optional<GuestId> holder = table.guest(j.unitId(), j.domainId());
            Optional<DomainId> held = table.domainId(j.guest(), j.unitId());
            if ((holder.isPresent() && !holder.get().equals(j.guest()))
                    || (held.isPresent() && !held.get().equals(j.domainId()))) {
                problems.add("device " + j.device() + ": the journal gives it guest " + j.guest() + " with domain id "
                        + j.domainId() + " on unit " + j.unitId() + ", which the units give otherwise; not restored");
                continue;
            }
            if (held.isEmpty()) {
                table.put(j.guest(), j.unitId(), j.domainId());
            }
            attachments.record(j);
            restored++;
            IommuUnit unit = topology.unit(j.unitId());
            if (unit != null && unit.inheritedTables()) {
                problems.add("device " + j.device() + ": the journal has it attached to guest " + j.guest()
                        + " (domain id " + j.domainId() + " on unit " + j.unitId() + ") but the unit's kept tables do"
                        + " not (a detach that was not acknowledged, or lost tables); restored from the journal");
            }
            if (unit != null) {
                try {
                    unit.setContext(j.device(), j.context());
                    flush.flushDeviceContext(j.unitId(), j.device(), j.domainId(), true);
                } catch (RuntimeException e) {
                    problems.add("device " + j.device() + ": its context entry could not be written again on unit "
                            + j.unitId() + ": " + OneLine.of(e));
                }
            }
            // a unit the journal names that is not here yet is told to the allocator when it comes,
            // with its real size: nothing is guessed for it now
        }
        return restored;
    }

    private void restoreMappings(Journal.State loaded, List<String> problems) {
        loaded.mappings.forEach((guest, runs) -> {
            GuestMappings adopted = pages.of(guest);
            if (adopted != null && adopted.samePages(runs)) {
                return; // the units' page tables hold what the journal says
            }
            if (adopted != null) {
                problems.add("guest " + guest + ": the units' page tables map its pages otherwise than the journal ("
                        + adopted.coalesced().size() + " runs there, " + runs.coalesced().size()
                        + " in the journal); the journal's written again");
            }
            pages.put(guest, runs);
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = topology.unit(unitId);
                if (unit != null) {
                    try {
                        if (adopted != null) {
                            for (GuestMappings.Run r : adopted.runs()) {
                                unit.unmap(guest, r.iova(), r.pages());
                            }
                        }
                        pages.replay(guest, unit);
                    } catch (RuntimeException e) {
                        problems.add("guest " + guest + ": its mappings could not be written again on unit " + unitId
                                + ": " + OneLine.of(e));
                    }
                }
            }
        });
    }
}
