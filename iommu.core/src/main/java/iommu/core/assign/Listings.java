package iommu.core.assign;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.IommuUnit;

/**
 * The API's DTOs, read from the topology, the attachments and the map.
 * Not thread-safe; called under the component's lock.
 */
public final class Listings {

    private final DomainIdTable table;
    private final Topology topology;
    private final Attachments attachments;
    private final HostDomain host;
    private final DeviceQuarantine quarantined;

    public Listings(DomainIdTable table, Topology topology, Attachments attachments, HostDomain host,
            DeviceQuarantine quarantined) {
        this.host = host;
        this.quarantined = quarantined;
        this.table = table;
        this.topology = topology;
        this.attachments = attachments;
    }

    public List<GuestDTO> guests() {
        return attachments.guests().stream().map(this::guest).toList();
    }

    public Optional<GuestDTO> guestIfAny(GuestId guest) {
        return attachments.holds(guest) ? Optional.of(guest(guest)) : Optional.empty();
    }

    /** The guest with its devices, by address (none when it holds none). */
    public GuestDTO guest(GuestId guest) {
        GuestDTO dto = new GuestDTO();
        dto.guest = guest.value();
        dto.devices = attachments.of(guest).values().stream()
                .flatMap(Set::stream)
                .sorted()
                .map(attachments::get)
                .map(a -> {
                    GuestDeviceDTO d = new GuestDeviceDTO();
                    d.bdf = a.device().toString();
                    d.unit = a.unitId();
                    d.did = a.domainId().value();
                    return d;
                })
                .toList();
        return dto;
    }

    /** Every device the units translate, and every attached one (its unit may be away). */
    public List<DeviceDTO> devices() {
        Map<PciAddress, String> all = topology.deviceUnits();
        attachments.all().forEach(a -> all.put(a.device(), a.unitId()));
        return all.entrySet().stream().map(e -> {
            DeviceDTO dto = new DeviceDTO();
            dto.bdf = e.getKey().toString();
            dto.unit = e.getValue();
            Attachment a = attachments.get(e.getKey());
            dto.guest = a == null ? null : a.guest().value();
            IommuUnit unit = topology.unit(e.getValue());
            dto.reservedMemory = unit != null && unit.hasReservedMemory(e.getKey());
            dto.group = topology.group(e.getKey()).number();
            dto.quarantined = quarantined.holds(e.getKey());
            dto.ats = unit != null && unit.hasDeviceTlb(e.getKey());
            return dto;
        }).toList();
    }

    /** Every group of the units present, with its owner (its members' guest; null for the host). */
    public List<GroupDTO> groups() {
        return topology.allGroups().stream().map(g -> {
            GroupDTO dto = new GroupDTO();
            dto.group = g.number();
            dto.unit = g.unitId();
            dto.requesterId = g.requesterId().toString();
            dto.devices = g.members().stream().map(PciAddress::toString).toList();
            dto.guest = g.members().stream().map(attachments::get).filter(java.util.Objects::nonNull).findFirst()
                    .map(a -> a.guest().value()).orElse(null);
            dto.quarantined = g.members().stream().anyMatch(quarantined::holds);
            return dto;
        }).toList();
    }

    public List<UnitDTO> units() {
        return topology.units().stream().map(u -> {
            UnitDTO dto = new UnitDTO();
            dto.id = u.id();
            dto.vendor = u.vendor();
            dto.segment = u.segment();
            dto.registerBase = u.registerBase();
            dto.includePciAll = u.includePciAll();
            dto.domainIds = u.domainIdCount();
            java.util.Set<DomainId> reserved = new java.util.HashSet<>(u.reservedDomainIds());
            host.of(u.id()).ifPresent(reserved::add);
            dto.reserved = reserved.stream().mapToInt(DomainId::value).sorted().toArray();
            dto.hostDomainId = host.of(u.id()).map(DomainId::value).orElse(null);
            dto.usedDomainIds = table.usedOn(u.id());
            dto.devices = topology.deviceCount(u.id());
            return dto;
        }).toList();
    }
}
