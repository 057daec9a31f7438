package iommu.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import iommu.api.DeviceAssignment;
import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.Quoted;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.IommuUnit;
import iommu.console.dto.ContextEntryDTO;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.DomainDTO;
import iommu.console.dto.GroupListDTO;
import iommu.console.dto.GuestDetailDTO;
import iommu.console.dto.GuestListDTO;
import iommu.console.dto.RegionDTO;
import iommu.console.dto.RegionsDTO;
import iommu.console.dto.StatsDTO;
import iommu.console.dto.UnitDetailDTO;
import iommu.console.dto.UnitDomainsDTO;
import iommu.console.dto.UnitListDTO;
import iommu.console.dto.UnitStatsDTO;

/**
 * What the read-only listings and inspections return ({@code units}, {@code unit}, {@code devices},
 * {@code guests}, {@code guest}, {@code groups}, {@code group}, {@code domains}, {@code ctx}, {@code stats},
 * {@code state}), built from
 * the platform's services as {@link IommuCommands} holds them.
 */
final class Inspection {

    private final IommuCommands c;

    Inspection(IommuCommands commands) {
        this.c = commands;
    }

    UnitListDTO units() {
        UnitListDTO r = new UnitListDTO();
        r.units = List.copyOf(c.requireAssignment().units());
        return r;
    }

    UnitDetailDTO unit(String id) {
        DeviceAssignment da = c.requireAssignment();
        UnitDTO u = Matching.unit(da.units(), id);
        Set<Integer> guests = new TreeSet<>();
        DomainIdMap map = c.domainIdMap;
        if (map != null) {
            map.domainsOn(u.id).values().forEach(g -> guests.add(g.value()));
        }
        UnitDetailDTO r = new UnitDetailDTO();
        r.id = u.id;
        r.vendor = u.vendor;
        r.segment = u.segment;
        r.registerBase = u.registerBase;
        r.includePciAll = u.includePciAll;
        r.domainIds = u.domainIds;
        r.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
        r.usedDomainIds = u.usedDomainIds;
        r.freeDomainIds = UnitsFormat.free(u);
        r.devices = u.devices;
        r.attachedDevices = (int) da.devices().stream().filter(d -> u.id.equals(d.unit) && d.guest != null).count();
        r.guests = List.copyOf(guests);
        r.decoded = new LinkedHashMap<>(c.unitService(u.id).map(IommuUnit::describe).orElse(Map.of()));
        return r;
    }

    DeviceListDTO devices() {
        DeviceListDTO r = new DeviceListDTO();
        r.devices = List.copyOf(c.requireAssignment().devices());
        return r;
    }

    GuestListDTO guests() {
        GuestListDTO r = new GuestListDTO();
        r.guests = List.copyOf(c.requireAssignment().guests());
        return r;
    }

    GuestDetailDTO guest(String id) {
        List<GuestDTO> guests = c.requireAssignment().guests();
        if (id != null && !id.isBlank() && !id.trim().matches("[0-9]+")) {
            GuestId.parse(id); // says what a guest id looks like
        }
        List<String> ids = guests.stream().map(g -> Integer.toString(g.guest)).toList();
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("no guest holds a device: expected a guest id that 'guests' lists");
        }
        String found = Matching.one("guest", id, ids);
        GuestDTO g = guests.stream().filter(x -> Integer.toString(x.guest).equals(found)).findFirst().orElseThrow();
        return guestDetail(c.domainIdMap, g);
    }

    GroupListDTO groups() {
        GroupListDTO r = new GroupListDTO();
        r.groups = List.copyOf(c.requireAssignment().groups());
        return r;
    }

    /**
     * {@code group ID|BDF}: a decimal number is a group's number, anything else a device's PCI address,
     * whose group it is.
     */
    GroupDTO group(String typed) {
        String t = typed == null ? "" : typed.trim();
        List<GroupDTO> groups = c.requireAssignment().groups();
        List<String> numbers = groups.stream().map(g -> Integer.toString(g.group)).toList();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("missing group: expected a group number, one of " + Matching.list(numbers)
                    + ", or a device's PCI address SSSS:BB:DD.F");
        }
        if (t.matches("[0-9]{1,10}")) {
            for (GroupDTO g : groups) {
                if (Integer.toString(g.group).equals(t.replaceFirst("^0+(?=.)", ""))) {
                    return g;
                }
            }
            throw new IllegalArgumentException("no group " + Quoted.of(t) + ": expected one of " + Matching.list(numbers)
                    + " (see 'groups'), or a device's PCI address SSSS:BB:DD.F");
        }
        PciAddress device;
        try {
            device = PciAddress.parse(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed group " + Quoted.of(t) + ": expected a group number, one of "
                    + Matching.list(numbers) + ", or a device's PCI address SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1");
        }
        return groupOf(groups, device).orElseThrow(() -> {
            c.findDevice(device); // an unknown device: the one line every command gives for it
            return new IommuException("device " + device + " is in no group that 'groups' lists: expected the core to"
                    + " list every device's group");
        });
    }

    /** The group a device is a member of, if the core lists one. */
    static Optional<GroupDTO> groupOf(List<GroupDTO> groups, PciAddress device) {
        String bdf = device.toString();
        for (GroupDTO g : groups) {
            if (g.devices != null && g.devices.stream().anyMatch(bdf::equalsIgnoreCase)) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    UnitDomainsDTO domains(String unit) {
        DeviceAssignment da = c.requireAssignment();
        UnitDTO u = Matching.unit(da.units(), unit);
        Map<DomainId, GuestId> on = c.requireMap().domainsOn(u.id);
        Map<Integer, List<String>> devicesOf = new TreeMap<>();
        for (GuestDTO g : da.guests()) {
            if (g.devices != null) {
                for (GuestDeviceDTO d : g.devices) {
                    if (u.id.equals(d.unit)) {
                        devicesOf.computeIfAbsent(g.guest, x -> new ArrayList<>()).add(d.bdf);
                    }
                }
            }
        }
        UnitDomainsDTO r = new UnitDomainsDTO();
        r.unit = u.id;
        r.domainIds = u.domainIds;
        r.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
        r.hostDomainId = u.hostDomainId;
        r.domains = new ArrayList<>();
        on.forEach((did, g) -> {
            DomainDTO row = new DomainDTO();
            row.did = did.value();
            row.guest = g.value();
            row.devices = devicesOf.getOrDefault(g.value(), List.of());
            r.domains.add(row);
        });
        return r;
    }

    ContextEntryDTO ctx(DeviceArgument bdf) {
        PciAddress device = bdf.value();
        DeviceDTO d = c.findDevice(device);
        ContextEntryDTO r = new ContextEntryDTO();
        r.bdf = device.toString();
        r.unit = d.unit;
        r.guest = d.guest;
        IommuUnit unit = c.requireUnitService(d.unit);
        r.context = new LinkedHashMap<>(unit.describeContext(device));
        List<PciAddress> aliases = unit.dmaAliases(device);
        r.requesterId = aliases == null || aliases.isEmpty() ? null : aliases.get(aliases.size() - 1).toString();
        return r;
    }

    RegionsDTO regions(DeviceArgument bdf) {
        PciAddress device = bdf.value();
        DeviceDTO d = c.findDevice(device);
        RegionsDTO r = new RegionsDTO();
        r.bdf = device.toString();
        r.unit = d.unit;
        r.regions = new ArrayList<>();
        for (iommu.api.spi.IovaRegion region : c.requireUnitService(d.unit).reservedRegions(device)) {
            RegionDTO x = new RegionDTO();
            x.first = region.first();
            x.last = region.last();
            x.type = region.type().sysfsName();
            r.regions.add(x);
        }
        return r;
    }

    StatsDTO stats() {
        DeviceAssignment da = c.requireAssignment();
        Map<String, Map<String, Long>> allocations = da.allocationCounts();
        StatsDTO r = new StatsDTO();
        r.units = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            UnitStatsDTO s = new UnitStatsDTO();
            s.unit = u.id;
            s.domainIds = u.domainIds;
            s.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
            s.usedDomainIds = u.usedDomainIds;
            s.freeDomainIds = UnitsFormat.free(u);
            s.allocations = new LinkedHashMap<>(allocations.getOrDefault(u.id, Map.of()));
            s.invalidations = new LinkedHashMap<>();
            c.unitService(u.id).ifPresent(x -> s.invalidations.putAll(x.invalidationCounts()));
            r.units.add(s);
        }
        return r;
    }

    StateDTO state() {
        StateDTO s = c.requireAssignment().state();
        StateDTO r = new StateDTO();
        r.directory = s.directory;
        r.restored = s.restored;
        r.problems = s.problems == null ? List.of() : List.copyOf(s.problems);
        r.rebuilt = s.rebuilt == null ? List.of() : List.copyOf(s.rebuilt); // null from a core before dto 1.2
        return r;
    }

    /** A guest as {@code guest} and {@code attach} show it: its devices and its domain id on each unit. */
    static GuestDetailDTO guestDetail(DomainIdMap map, GuestDTO g) {
        GuestDetailDTO r = new GuestDetailDTO();
        r.guest = g.guest;
        r.devices = g.devices == null ? List.of() : List.copyOf(g.devices);
        r.dids = domainIdsOf(map, g);
        return r;
    }

    private static Map<String, Integer> domainIdsOf(DomainIdMap map, GuestDTO g) {
        Map<String, Integer> out = new TreeMap<>();
        if (map != null) {
            map.domainsOf(new GuestId(g.guest)).forEach((u, d) -> out.put(u, d.value()));
        } else if (g.devices != null) {
            g.devices.forEach(d -> out.put(d.unit, d.did));
        }
        return out;
    }
}
