package iommu.core.audit;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.Assignment;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.GuestPages;
import iommu.core.assign.HostDomain;
import iommu.core.assign.IdentityMaps;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.Group;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Topology;

/**
 * Whether the map, the bound strategy's bitmaps and the units' context
 * entries agree (DESIGN 7.3 and 7.5): one line per disagreement, empty when
 * they do. A pure function of the state it is given: it changes nothing.
 */
public final class Audit {

    /** The bound strategy as the audit sees it: its name and allocator, or why none is bound. */
    public record Strategy(String name, DomainIdAllocator allocator, String problem) {
    }

    private Audit() {
    }

    public static List<String> of(Topology topology, Attachments attachments, DomainIdTable table, GuestPages pages,
            Quarantine quarantine, HostDomain host, DeviceQuarantine devicesQuarantined, Strategy strategy) {
        List<String> problems = new ArrayList<>();
        attachments.all().forEach(a -> checkIdentityMaps(a, topology, pages, problems));
        attachments.all().forEach(a -> checkAttachment(a, topology, table, problems));
        attachments.all().forEach(a -> checkAliases(a, topology, attachments, problems));
        checkGroups(topology, attachments, problems);
        for (GuestId guest : table.guests()) {
            table.domainsOf(guest).forEach((unitId, did) -> {
                if (attachments.of(guest, unitId).isEmpty()) {
                    problems.add("the map gives guest " + guest + " domain id " + did + " on unit " + unitId
                            + " but none of its devices is attached there");
                }
            });
        }
        for (IommuUnit unit : topology.units()) {
            checkHostOwned(unit, topology, attachments, host, devicesQuarantined, problems);
        }
        if (strategy.allocator() == null) {
            problems.add("no allocation strategy bound: " + (strategy.problem() == null ? "none requested"
                    : strategy.problem()));
            return problems;
        }
        checkBitmaps(topology, table, quarantine, strategy, problems);
        // the strategy's own rules (global: one id on every unit), as it states them, over the map
        List<Assignment> held = new ArrayList<>();
        for (GuestId guest : table.guests()) {
            table.domainsOf(guest).forEach((unitId, did) -> held.add(new Assignment(guest, unitId, did)));
        }
        problems.addAll(strategy.allocator().check(held));
        return problems;
    }

    private static void checkAttachment(Attachment a, Topology topology, DomainIdTable table, List<String> problems) {
        String what = "device " + a.device() + " of guest " + a.guest() + " on unit " + a.unitId();
        IommuUnit unit = topology.unit(a.unitId());
        if (unit == null) {
            problems.add(what + ": the unit is absent (its entry is written again when it returns)");
        } else {
            Optional<DeviceContext> entry = unit.context(a.device());
            if (entry.isEmpty()) {
                problems.add(what + ": the unit's context entry is not present; expected domain id " + a.domainId());
            } else if (!entry.get().equals(a.context())) {
                problems.add(what + ": the unit's context entry holds domain id " + entry.get().domainId()
                        + " of guest " + entry.get().guest() + "; expected domain id " + a.domainId());
            }
        }
        if (!table.domainId(a.guest(), a.unitId()).equals(Optional.of(a.domainId()))) {
            problems.add(what + ": the map gives the guest " + table.domainId(a.guest(), a.unitId())
                    .map(DomainId::toString).orElse("no domain id") + " there; expected " + a.domainId());
        }
        if (!table.guest(a.unitId(), a.domainId()).equals(Optional.of(a.guest()))) {
            problems.add(what + ": the map gives domain id " + a.domainId() + " to " + table.guest(a.unitId(),
                    a.domainId()).map(g -> "guest " + g).orElse("nobody") + "; expected guest " + a.guest());
        }
    }

    /**
     * Every requester id no guest holds is in the unit's host domain, when it
     * has one (DESIGN 4, the host domain), and has no entry otherwise.
     */
    private static void checkHostOwned(IommuUnit unit, Topology topology, Attachments attachments, HostDomain host,
            DeviceQuarantine quarantined, List<String> problems) {
        for (PciAddress id : quarantined.entryIds(unit)) {
            unit.context(id).ifPresent(c -> problems.add("unit " + unit.id() + ": quarantined " + id + " has the entry of "
                    + (c.isHost() ? "the host" : "guest " + c.guest()) + " with domain id " + c.domainId()
                    + "; expected none (its DMA faults until it is released)"));
        }
        Optional<DeviceContext> expected = host.context(unit.id());
        for (PciAddress id : HostDomain.hostIds(unit, topology, attachments, quarantined)) {
            Optional<DeviceContext> found = unit.context(id);
            if (found.equals(expected)) {
                continue;
            }
            if (expected.isEmpty()) {
                problems.add("unit " + unit.id() + " has a present context entry for " + id + " (domain id "
                        + found.get().domainId() + ") that no assignment records");
            } else if (found.isEmpty()) {
                problems.add("unit " + unit.id() + ": host-owned " + id + " has no context entry; expected the host"
                        + " domain's (domain id " + expected.get().domainId() + ")");
            } else {
                problems.add("unit " + unit.id() + ": host-owned " + id + " has the entry of " + (found.get().isHost()
                        ? "the host" : "guest " + found.get().guest()) + " with domain id " + found.get().domainId()
                        + "; expected the host domain's (domain id " + expected.get().domainId() + ")");
            }
        }
    }

    /** An attached device's firmware memory is mapped to itself in its guest's space (Xen rmrr_identity_mapping). */
    private static void checkIdentityMaps(Attachment a, Topology topology, GuestPages pages, List<String> problems) {
        IommuUnit unit = topology.unit(a.unitId());
        if (unit == null) {
            return;
        }
        for (GuestMappings.Run run : IdentityMaps.runsOf(unit, a.device())) {
            if (!IdentityMaps.isMapped(pages.of(a.guest()), run)) {
                problems.add(String.format("device %s of guest %s: its firmware memory at 0x%x (%d pages) is not"
                        + " identity-mapped in the guest's space, so its DMA there faults", a.device(), a.guest(),
                        run.iova(), run.pages()));
            }
        }
    }

    /** Every alias requester id of an attached device carries its guest's entry (DESIGN 7.8). */
    private static void checkAliases(Attachment a, Topology topology, Attachments attachments, List<String> problems) {
        IommuUnit unit = topology.unit(a.unitId());
        if (unit == null) {
            return;
        }
        for (Attachment e : topology.entries(List.of(a))) {
            if (e.device().equals(a.device()) || attachments.contains(e.device())) {
                continue; // its own entry, or another attached device's, checked as that device
            }
            Optional<DeviceContext> entry = unit.context(e.device());
            String what = "device " + a.device() + " of guest " + a.guest() + " on unit " + a.unitId()
                    + ": its alias requester id " + e.device();
            if (entry.isEmpty()) {
                problems.add(what + " has no context entry; expected domain id " + a.domainId());
            } else if (!entry.get().equals(a.context())) {
                problems.add(what + " holds domain id " + entry.get().domainId() + " of guest " + entry.get().guest()
                        + "; expected domain id " + a.domainId());
            }
        }
    }

    /** A group has one owner: all its members attached to one guest, or none attached (its entries: checkHostOwned). */
    private static void checkGroups(Topology topology, Attachments attachments, List<String> problems) {
        for (Group g : topology.allGroups()) {
            Set<String> owners = new TreeSet<>();
            for (PciAddress m : g.members()) {
                Attachment a = attachments.get(m);
                owners.add(a == null ? "the host" : "guest " + a.guest());
            }
            if (owners.size() > 1) {
                problems.add("IOMMU group " + g.number() + " (" + g.members() + ") is split between " + owners
                        + ": a group has one owner");
            }
        }
    }

    /** On every unit the allocator knows, its bitmap marks exactly the ids the map and the quarantine hold. */
    private static void checkBitmaps(Topology topology, DomainIdTable table, Quarantine quarantine, Strategy strategy,
            List<String> problems) {
        for (String unitId : topology.describedUnits()) {
            BitSet expected = new BitSet();
            table.domainsOn(unitId).keySet().forEach(did -> expected.set(did.value()));
            quarantine.ids(unitId).forEach(did -> expected.set(did.value()));
            BitSet marked = strategy.allocator().inUse(unitId);
            if (!marked.equals(expected)) {
                BitSet extra = (BitSet) marked.clone();
                extra.andNot(expected);
                BitSet missing = (BitSet) expected.clone();
                missing.andNot(marked);
                problems.add("unit " + unitId + ": strategy " + strategy.name() + " marks ids " + extra
                        + " in use that the map does not hold, and not ids " + missing + " that it does");
            }
        }
    }
}
