package iommu.core.assign;

import java.util.ArrayList;
import java.util.List;

import iommu.api.GuestId;
import iommu.api.spi.Assignment;

/** What a strategy is handed: every guest's domain id on every unit, quarantined ids included (they are not free). */
public final class CurrentAssignments {

    private CurrentAssignments() {
    }

    public static List<Assignment> of(DomainIdTable table, Attachments attachments, Quarantine quarantine) {
        List<Assignment> list = new ArrayList<>();
        for (GuestId guest : attachments.guests()) {
            table.domainsOf(guest).forEach((unitId, did) -> list.add(new Assignment(guest, unitId, did)));
        }
        list.addAll(quarantine.assignments());
        return list;
    }
}
