package iommu.core.assign;

import java.util.List;

import iommu.api.ContextChange;
import iommu.api.FlushService;
import iommu.api.spi.IommuUnit;

/**
 * Clearing context entries as one batch: each entry cleared (its restoration
 * pushed on the undo log), then the context caches and IOTLBs for their ids
 * invalidated in one batch per unit and awaited. When this returns, no unit
 * translates those devices or caches anything tagged for them (DESIGN 4,
 * detach; DESIGN 5, renumbering).
 */
public final class ContextEntries {

    private ContextEntries() {
    }

    public static void clearAndFlush(List<Attachment> entries, Topology topology, FlushService flush, UndoLog undo) {
        for (Attachment a : entries) {
            IommuUnit unit = topology.present(a.unitId());
            unit.clearContext(a.device());
            undo.push(() -> {
                unit.setContext(a.device(), a.context());
                flush.flushDeviceContext(a.unitId(), a.device(), a.domainId(), true);
            });
        }
        flush.flushContextChanges(entries.stream()
                .map(a -> new ContextChange(a.unitId(), a.device(), a.domainId(), false)).toList());
    }

    /**
     * Detach's form of {@link #clearAndFlush}: each entry goes back to the
     * host domain of its unit where there is one, written in place over the
     * guest's (Xen's direct re-assignment, XSA-400: the device's DMA reaches
     * the guest's tables or the host's, never a third translation), else is
     * cleared; then the caches for the guest's ids are invalidated and awaited.
     */
    public static void returnAndFlush(List<Attachment> entries, HostDomain host, Topology topology,
            FlushService flush, UndoLog undo) {
        for (Attachment a : entries) {
            IommuUnit unit = topology.present(a.unitId());
            java.util.Optional<iommu.api.spi.DeviceContext> back = host.context(a.unitId());
            if (back.isPresent()) {
                unit.setContext(a.device(), back.get());
                undo.push(() -> {
                    unit.setContext(a.device(), a.context());
                    flush.flushDeviceContext(a.unitId(), a.device(), back.get().domainId(), false);
                });
            } else {
                unit.clearContext(a.device());
                undo.push(() -> {
                    unit.setContext(a.device(), a.context());
                    flush.flushDeviceContext(a.unitId(), a.device(), a.domainId(), true);
                });
            }
        }
        flush.flushContextChanges(entries.stream()
                .map(a -> new ContextChange(a.unitId(), a.device(), a.domainId(), false)).toList());
    }

    /**
     * Writes again every alias entry of the attachments that the unit does
     * not hold as recorded (their own entries are the caller's); one line per
     * entry that could not be written.
     */
    public static List<String> writeAliasesAgain(List<Attachment> attached, Topology topology, Attachments attachments,
            FlushService flush) {
        List<String> failures = new java.util.ArrayList<>();
        for (Attachment e : topology.entries(attached)) {
            IommuUnit unit = topology.unit(e.unitId());
            if (unit == null || attachments.contains(e.device())) {
                continue;
            }
            try {
                java.util.Optional<iommu.api.spi.DeviceContext> now = unit.context(e.device());
                if (now.isPresent() && now.get().equals(e.context())) {
                    continue;
                }
                unit.setContext(e.device(), e.context());
                flush.flushDeviceContext(e.unitId(), e.device(), e.domainId(), now.isEmpty());
            } catch (RuntimeException x) {
                failures.add("unit " + e.unitId() + ": cannot write the context entry of alias requester id "
                        + e.device() + " (guest " + e.guest() + ", domain id " + e.domainId() + "): " + OneLine.of(x));
            }
        }
        return failures;
    }
}
