package iommu.core.assign;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.HostTranslation;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.UnitDescriptor;

/**
 * The host's own domain on each unit: every requester id no guest holds has
 * a present entry in it (pass-through, or an identity table where the unit
 * has no pass-through), tagged with a domain id kept back from guests, as a
 * real host has it. Linux gives each IOMMU group a default domain, the
 * identity one using DID 1 in legacy mode ({@code FLPT_DEFAULT_DID},
 * drivers/iommu/intel/iommu.h); Xen's dom0 holds a DID on every unit with
 * devices. The mode {@code none} is the seed patch's accounting: no host
 * domain, host-owned devices without an entry, their DMA faulting. Not
 * thread-safe; called under the component's lock.
 */
public final class HostDomain {

    /** How the host domain's id on each unit is chosen, or that there is none. */
    public enum Mode {
        /** DID 1 on every unit, Linux's {@code FLPT_DEFAULT_DID}. */
        LINUX,
        /** The lowest id the unit does not reserve and no guest holds, as Xen's dom0 gets one per unit. */
        ALLOCATED,
        /** No host domain (the seed's accounting): host-owned devices have no context entry. */
        NONE;

        public static Mode parse(String value) {
            String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
            for (Mode m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(v)) {
                    return m;
                }
            }
            throw new IommuException("host domain '" + value + "' unknown: expected linux, allocated or none");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Linux's identity domain id in legacy mode. */
    public static final DomainId LINUX_DOMAIN_ID = DomainId.of(1);

    private Mode mode;
    private final Map<String, DomainId> byUnit = new TreeMap<>();

    public HostDomain(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    public void mode(Mode next) {
        this.mode = next;
    }

    /** The host domain's id on the unit, when it has one there. */
    public Optional<DomainId> of(String unitId) {
        return Optional.ofNullable(byUnit.get(unitId));
    }

    /** The host domain's entry on the unit, when it has one there. */
    public Optional<DeviceContext> context(String unitId) {
        return of(unitId).map(DeviceContext::host);
    }

    /**
     * What the strategies know of the unit: its own reserved ids and the host
     * domain's, chosen here ({@code taken}: ids guests hold there, which the
     * host never takes).
     */
    public UnitDescriptor describe(IommuUnit unit, Set<DomainId> taken) {
        UnitDescriptor own = UnitDescriptor.of(unit);
        byUnit.remove(unit.id());
        if (mode == Mode.NONE || unit.hostTranslation() == HostTranslation.NONE) {
            return own;
        }
        DomainId did = choose(own, taken);
        if (did == null) {
            return own; // a unit with no id to spare: its host devices stay without entries
        }
        byUnit.put(unit.id(), did);
        Set<DomainId> reserved = new HashSet<>(own.reserved());
        reserved.add(did);
        return new UnitDescriptor(own.unitId(), own.domainIdCount(), reserved);
    }

    private DomainId choose(UnitDescriptor own, Set<DomainId> taken) {
        if (mode == Mode.LINUX && LINUX_DOMAIN_ID.value() < own.domainIdCount()
                && !own.reserved().contains(LINUX_DOMAIN_ID) && !taken.contains(LINUX_DOMAIN_ID)) {
            return LINUX_DOMAIN_ID;
        }
        for (int i = 0; i < own.domainIdCount(); i++) {
            DomainId did = DomainId.of(i);
            if (!own.reserved().contains(did) && !taken.contains(did)) {
                return did;
            }
        }
        return null;
    }

    /** Forgets the unit (it left with nothing attached). */
    public void forget(String unitId) {
        byUnit.remove(unitId);
    }

    /**
     * The requester ids of the unit that the host owns: its devices' and
     * their aliases', but those the attachments' entries hold and those of
     * quarantined devices.
     */
    public static List<PciAddress> hostIds(IommuUnit unit, Topology topology, Attachments attachments,
            DeviceQuarantine quarantine) {
        Set<PciAddress> guests = new HashSet<>(quarantine.entryIds(unit));
        for (Attachment e : topology.entries(attachments.onUnit(unit.id()).stream().map(attachments::get).toList())) {
            guests.add(e.device());
        }
        Set<PciAddress> ids = new LinkedHashSet<>();
        for (PciAddress device : unit.devices()) {
            for (PciAddress id : Groups.aliasesOf(unit, device)) {
                if (!guests.contains(id)) {
                    ids.add(id);
                }
            }
        }
        return new ArrayList<>(ids);
    }

    /**
     * Puts every host-owned requester id of the unit in the host domain (or,
     * with none, takes away what a host domain left there): each entry not
     * as it should be is written and its caches invalidated. One line per
     * entry that could not be written.
     */
    public List<String> program(IommuUnit unit, Topology topology, Attachments attachments,
            DeviceQuarantine quarantine, FlushService flush) {
        List<String> failures = new ArrayList<>();
        Optional<DeviceContext> host = context(unit.id());
        for (PciAddress id : quarantine.entryIds(unit)) {
            try {
                Optional<DeviceContext> now = unit.context(id);
                if (now.isPresent() && now.get().isHost()) { // quarantined: no translation at all
                    unit.clearContext(id);
                    flush.flushDeviceContext(unit.id(), id, now.get().domainId(), false);
                }
            } catch (RuntimeException e) {
                failures.add("unit " + unit.id() + ": cannot clear the entry of quarantined " + id + ": "
                        + OneLine.of(e));
            }
        }
        for (PciAddress id : hostIds(unit, topology, attachments, quarantine)) {
            try {
                Optional<DeviceContext> now = unit.context(id);
                if (now.equals(host) || (host.isEmpty() && (now.isEmpty() || !now.get().isHost()))) {
                    continue; // as it should be; a guest entry nobody records is the adoption's to judge
                }
                if (host.isPresent()) {
                    unit.setContext(id, host.get());
                    flush.flushDeviceContext(unit.id(), id, now.map(DeviceContext::domainId).orElse(host.get()
                            .domainId()), now.isEmpty());
                } else {
                    unit.clearContext(id);
                    flush.flushDeviceContext(unit.id(), id, now.get().domainId(), false);
                }
            } catch (RuntimeException e) {
                failures.add("unit " + unit.id() + ": cannot put " + id + " in the host domain: " + OneLine.of(e));
            }
        }
        return failures;
    }
}
