package iommu.bench;

import java.util.ArrayList;
import java.util.List;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.core.AssignmentManager;
import iommu.core.assign.DomainIdTable;

/**
 * The platform's services wired by hand as the framework would wire them:
 * the core's {@link AssignmentManager} and {@link DomainIdTable}, the real
 * flush service, the per-unit strategy, over {@link FakeUnit}s.
 */
final class Platform {

    final List<FakeUnit> units;
    final DomainIdTable table;
    final FlushService flush;
    final AssignmentManager assignment;

    Platform(int unitCount, int domainIds, int devicesPerUnit) {
        List<FakeUnit> list = new ArrayList<>(unitCount);
        for (int u = 0; u < unitCount; u++) {
            list.add(new FakeUnit(u, domainIds, devicesPerUnit));
        }
        this.units = List.copyOf(list);
        this.table = new DomainIdTable();
        this.flush = FlushRig.flushService(table, CoreRig.silentLogger(), units);
        this.assignment = CoreRig.manager(table, flush, units, new PerUnitStrategy());
    }

    void attach(int guest, List<PciAddress> devices) {
        assignment.attach(GuestId.guest(guest), devices);
    }
}
