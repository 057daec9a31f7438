package iommu.core;

import java.util.HashSet;
import java.util.Set;

import org.osgi.service.log.Logger;

import iommu.api.spi.IommuUnit;
import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.PciAddress;
import iommu.api.spi.UnitDescriptor;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.HostDomain;
import iommu.core.assign.Attachments;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Topology;
import iommu.core.recovery.StateStore;
import iommu.core.recovery.UnitAdoption;
import iommu.core.strategy.StrategyBinding;

/**
 * A unit service appears or goes: the topology, the records and the
 * allocator follow. A unit that leaves with devices attached keeps their
 * records (and its descriptor), written again when it returns. Not
 * thread-safe; called under the component's lock.
 */
final class UnitChanges {

    private final Topology topology;
    private final Attachments attachments;
    private final Quarantine quarantine;
    private final StrategyBinding strategies;
    private final UnitAdoption adoption;
    private final StateStore store;
    private final Logger log;
    private final HostDomain host;
    private final DeviceQuarantine quarantined;
    private final DomainIdTable table;
    private final FlushService flush;

    UnitChanges(Topology topology, Attachments attachments, Quarantine quarantine, StrategyBinding strategies,
            UnitAdoption adoption, StateStore store, HostDomain host, DeviceQuarantine quarantined, DomainIdTable table,
            FlushService flush, Logger log) {
        this.host = host;
        this.quarantined = quarantined;
        this.table = table;
        this.flush = flush;
        this.topology = topology;
        this.attachments = attachments;
        this.quarantine = quarantine;
        this.strategies = strategies;
        this.adoption = adoption;
        this.store = store;
        this.log = log;
    }

    /** @param active whether the component is active (else activation adopts every unit at once) */
    void arrived(IommuUnit unit, boolean active) {
        IommuUnit previous = topology.unit(unit.id());
        if (previous != null && previous != unit) {
            log.error("a second unit with id {} appeared ({} at 0x{}); it is ignored while the first is present",
                    unit.id(), unit.vendor(), Long.toHexString(unit.registerBase()));
            return;
        }
        UnitDescriptor known = topology.descriptor(unit.id()); // it left with devices attached
        UnitDescriptor descriptor = describe(unit);
        topology.add(unit);
        topology.describe(descriptor);
        if (!active) {
            return;
        }
        UnitAdoption.Result adopted = adoption.adopt(unit);
        store.unitAdopted(adopted);
        programHost(unit);
        topology.indexUnit(unit);
        // the allocator must be opened again when it is not told of the unit's ids by addUnit alone: entries
        // were adopted, it knew the unit otherwise, or the records hold ids there it never saw (the journal
        // named the unit before it came)
        boolean unseenIds = known == null
                && (!attachments.onUnit(unit.id()).isEmpty() || quarantine.holdsUnit(unit.id()));
        if (adopted.adoptedAny() || strategies.allocator() == null || unseenIds
                || (known != null && !known.equals(descriptor))) {
            strategies.reopen();
        } else if (known == null) {
            strategies.allocator().addUnit(descriptor);
        }
    }

    void departed(IommuUnit unit, boolean active) {
        if (!topology.remove(unit)) {
            return;
        }
        int attached = attachments.onUnit(unit.id()).size();
        if (attached == 0 && !quarantine.holdsUnit(unit.id())) {
            topology.forgetDescriptor(unit.id());
            host.forget(unit.id());
            if (strategies.allocator() != null) {
                strategies.allocator().removeUnit(unit.id());
            }
        } else {
            log.warn("unit {} went away with {} attached devices: their assignments are kept and written again "
                    + "when the unit returns", unit.id(), attached);
        }
        if (active) {
            topology.unindexUnit(unit.id());
        }
    }

    /** The unit as the strategies see it: the host domain's id, chosen among those no guest holds there, reserved. */
    private UnitDescriptor describe(IommuUnit unit) {
        Set<DomainId> taken = new HashSet<>(table.domainsOn(unit.id()).keySet());
        taken.addAll(quarantine.ids(unit.id()));
        // and those the unit's kept tables give guests: their entries are adopted, not cleared for the host
        for (PciAddress device : unit.devices()) {
            unit.context(device).filter(c -> !c.isHost()).ifPresent(c -> taken.add(c.domainId()));
        }
        return host.describe(unit, taken);
    }

    /** Every host-owned requester id of the unit in the host domain (what could not be written is reported). */
    void programHost(IommuUnit unit) {
        store.unitProblems(host.program(unit, topology, attachments, quarantined, flush));
    }

    /** The host domain's mode changed: each unit's id chosen again and its host entries written. */
    void redescribeAll() {
        for (IommuUnit unit : topology.units()) {
            topology.describe(describe(unit));
            programHost(unit);
        }
    }
}
