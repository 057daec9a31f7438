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
}
