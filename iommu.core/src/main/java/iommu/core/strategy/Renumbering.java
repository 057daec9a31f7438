package iommu.core.strategy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.osgi.service.log.Logger;

import iommu.api.ContextChange;
import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.IommuException;
import iommu.api.RenumberingProgress;
import iommu.api.spi.Assignment;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.ContextEntries;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.OneLine;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;
import iommu.core.assign.UndoLog;

/**
 * Moves every device whose domain id a newly opened allocator changed, as one
 * transaction (DESIGN 5): plan, clear every moving entry and invalidate its
 * old id, write the new entries and flush them, then commit (map, records,
 * allocator) or, on any failure, roll back to the old numbering. No id is
 * live twice on a unit at any point. Not thread-safe; called under the
 * component's lock.
 */
public final class Renumbering {

    /** Renumberings of at least this many entries report their progress every tenth. */
    static final int REPORTED = 1000;

    private final DomainIdTable table;
    private final FlushService flush;
    private final Topology topology;
    private final Attachments attachments;
    private final Quarantine quarantine;
    private final Recorder recorder;
    private final Consumer<RenumberingProgress> progress;
    private final Logger log;

    public Renumbering(DomainIdTable table, FlushService flush, Topology topology, Attachments attachments,
            Quarantine quarantine, Recorder recorder, Consumer<RenumberingProgress> progress, Logger log) {
        this.table = table;
        this.flush = flush;
        this.topology = topology;
        this.attachments = attachments;
        this.quarantine = quarantine;
        this.recorder = recorder;
        this.progress = progress;
        this.log = log;
    }

    /** Applies the allocator's renumbering, if it has one; throws (everything rolled back) when it cannot. */
    public void apply(String strategyName, DomainIdAllocator allocator) {
        Map<Assignment, DomainId> plan = allocator.renumbering();
        if (plan.isEmpty()) {
            return;
        }
        List<Attachment> moved = plan(plan);
        // the entries of the moving devices' groups, alias requester ids included
        List<Attachment> entries = topology.entries(moved);
        log.info("strategy {}: renumbering {} domain ids over {} devices", strategyName, plan.size(), moved.size());
        report(strategyName, plan.size(), 0, entries.size());
        UndoLog undo = new UndoLog();
        try {
            // every entry that moves is cleared and its old id invalidated, in one batch per unit...
            ContextEntries.clearAndFlush(entries, topology, flush, undo);
            writeAndFlush(strategyName, plan, entries, undo);
            // recorded before the swap is committed: a journal that cannot take it (a full disk) rolls it back
            recorder.attached(renumbered(plan, moved));
        } catch (RuntimeException e) {
            undo.rollBack(e);
            throw new IommuException("renumbering failed and was rolled back: " + OneLine.of(e), e);
        }
        commit(plan, moved, allocator);
    }

    /** The attachments whose domain id changes. */
    private List<Attachment> plan(Map<Assignment, DomainId> plan) {
        List<Attachment> moved = new ArrayList<>();
        for (Assignment a : plan.keySet()) {
            attachments.of(a.guest(), a.unitId()).forEach(d -> moved.add(attachments.get(d)));
        }
        return moved;
    }

    /** ...before any new entry is written, so no id is live twice on a unit. */
    private void writeAndFlush(String strategyName, Map<Assignment, DomainId> plan, List<Attachment> moved,
            UndoLog undo) {
        List<ContextChange> written = new ArrayList<>();
        for (Attachment a : moved) {
            IommuUnit unit = topology.present(a.unitId());
            DomainId next = plan.get(new Assignment(a.guest(), a.unitId(), a.domainId()));
            unit.setContext(a.device(), new DeviceContext(next, a.guest()));
            undo.push(() -> {
                unit.clearContext(a.device());
                flush.flushDeviceContext(a.unitId(), a.device(), next, false);
            });
            written.add(new ContextChange(a.unitId(), a.device(), next, true));
            if (moved.size() >= REPORTED && written.size() % (moved.size() / 10) == 0) {
                log.info("strategy {}: renumbering: {} of {} context entries written", strategyName,
                        written.size(), moved.size());
                if (written.size() < moved.size()) {
                    report(strategyName, plan.size(), written.size(), moved.size());
                }
            }
        }
        flush.flushContextChanges(written);
        report(strategyName, plan.size(), moved.size(), moved.size());
    }

    /** The units hold the new numbering and the old ids were invalidated: the map, the records and the allocator follow. */
    private void commit(Map<Assignment, DomainId> plan, List<Attachment> moved, DomainIdAllocator allocator) {
        plan.forEach((a, next) -> {
            if (!quarantine.renumber(a, next)) {
                table.remove(a.guest(), a.unitId(), a.domainId());
            }
        });
        plan.forEach((a, next) -> {
            if (!quarantine.holds(a.unitId(), next)) {
                table.put(a.guest(), a.unitId(), next);
            }
        });
        renumbered(plan, moved).forEach(attachments::renumber);
        allocator.commitRenumbering();
    }

    private static List<Attachment> renumbered(Map<Assignment, DomainId> plan, List<Attachment> moved) {
        List<Attachment> renumbered = new ArrayList<>();
        for (Attachment a : moved) {
            renumbered.add(a.withDomainId(plan.get(new Assignment(a.guest(), a.unitId(), a.domainId()))));
        }
        return renumbered;
    }

    private void report(String strategy, int domainIds, int written, int entries) {
        try {
            progress.accept(new RenumberingProgress(strategy, domainIds, written, entries));
        } catch (RuntimeException e) {
            log.warn("a renumbering listener failed: {}", OneLine.of(e));
        }
    }
}
