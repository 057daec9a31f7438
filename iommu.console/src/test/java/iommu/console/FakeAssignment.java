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
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;

/**
 * A two-unit platform in memory: devices 0000:3b:00.x under dmar0,
 * 0000:5e:00.x under dmar1 (0000:5e:00.3 has firmware-reserved memory).
 * {@link #api()} is it as a {@link DeviceAssignment}, {@link #map()} as a
 * {@link DomainIdMap}. Every device is alone in its IOMMU group (the SPI's
 * default aliases) unless {@link #bridgeGroup()} puts two behind a bridge;
 * groups are owned whole, as the core owns them.
 */
class FakeAssignment {

    final Map<PciAddress, String> unitOf = new TreeMap<>();
    /** A device to the requester id its unit finally sees, when a bridge aliases it (else its own). */
    final Map<PciAddress, PciAddress> requesterOf = new TreeMap<>();
    final Set<PciAddress> reservedMemory = new TreeSet<>();
    final Map<PciAddress, Integer> owner = new TreeMap<>();
    final Map<String, Map<Integer, Integer>> didOf = new TreeMap<>(); // unit -> guest -> did
    final List<String> mapped = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    volatile String bound = "per-unit";
    volatile String requested = "per-unit";
    volatile String problem;
    volatile String stateDirectory;

    FakeAssignment() {
        for (int f = 0; f < 4; f++) {
            unitOf.put(new PciAddress(0, 0x3b, 0, f), "dmar0");
            unitOf.put(new PciAddress(0, 0x5e, 0, f), "dmar1");
        }
        reservedMemory.add(new PciAddress(0, 0x5e, 0, 3));
        didOf.put("dmar0", new TreeMap<>());
        didOf.put("dmar1", new TreeMap<>());
    }

    /** The bridge at 0000:5d:00.0 (its id the one dmar1 sees) in front of 0000:5e:00.1 and 0000:5e:00.2: one group. */
    static final PciAddress BRIDGE = new PciAddress(0, 0x5d, 0, 0);

    FakeAssignment bridgeGroup() {
        requesterOf.put(new PciAddress(0, 0x5e, 0, 1), BRIDGE);
        requesterOf.put(new PciAddress(0, 0x5e, 0, 2), BRIDGE);
        return this;
    }

    /** What the fake units' dmaAliases give: the device, then the bridge's id when one aliases it. */
    List<PciAddress> dmaAliases(String unit, PciAddress device) {
        if (!unit.equals(unitOf.get(device))) {
            return List.of();
        }
        PciAddress r = requesterOf.get(device);
        return r == null ? List.of(device) : List.of(device, r);
    }

    /** The groups: the devices by the last of their aliases, numbered from 0 in that order. */
    public synchronized List<GroupDTO> groups() {
        Map<PciAddress, List<PciAddress>> byRequester = new TreeMap<>();
        unitOf.forEach((d, u) -> {
            List<PciAddress> aliases = dmaAliases(u, d);
            byRequester.computeIfAbsent(aliases.get(aliases.size() - 1), x -> new ArrayList<>()).add(d);
        });
        List<GroupDTO> out = new ArrayList<>();
        byRequester.forEach((r, members) -> {
            GroupDTO g = new GroupDTO();
            g.group = out.size();
            g.unit = unitOf.get(members.get(0));
            g.requesterId = r.toString();
            g.devices = members.stream().map(PciAddress::toString).toList();
            g.guest = owner.get(members.get(0));
            out.add(g);
        });
        return out;
    }

    private GroupDTO groupOf(PciAddress device) {
        return groups().stream().filter(g -> g.devices.contains(device.toString())).findFirst().orElseThrow();
    }

    /** As the core refuses a part of a group: one line naming every member and how to take them all. */
    private void requireWholeGroups(String verb, GuestId guest, List<PciAddress> devices) {
        for (PciAddress d : devices) {
            GroupDTO g = groupOf(d);
            List<String> missing = g.devices.stream().filter(m -> !devices.contains(PciAddress.parse(m))).toList();
            if (!missing.isEmpty()) {
                throw new IommuException("device " + d + " is in IOMMU group " + g.group + " with " + String.join(", ", missing)
                        + ": a group is " + verb + "ed whole: give every member (" + String.join(" ", g.devices)
                        + ") or use '" + verb + " --group " + (guest == null ? "" : guest + " ") + d + "'");
            }
        }
    }

    DeviceAssignment api() {
        return Fakes.proxy(DeviceAssignment.class, this);
    }

    DomainIdMap map() {
        return Fakes.proxy(DomainIdMap.class, new Object() {
            @SuppressWarnings("unused")
            public Map<String, DomainId> domainsOf(GuestId guest) {
                Map<String, DomainId> out = new TreeMap<>();
                didOf.forEach((u, m) -> {
                    Integer d = m.get(guest.value());
                    if (d != null) {
                        out.put(u, DomainId.of(d));
                    }
                });
                return out;
            }

            @SuppressWarnings("unused")
            public Map<DomainId, GuestId> domainsOn(String unitId) {
                Map<DomainId, GuestId> out = new TreeMap<>();
                didOf.getOrDefault(unitId, Map.of()).forEach((g, d) -> out.put(DomainId.of(d), new GuestId(g)));
                return out;
            }
        });
    }

    public GuestDTO attach(GuestId guest, List<PciAddress> devices) {
        return attach(guest, devices, false);
    }

    public synchronized GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory) {
        for (PciAddress d : devices) {
            if (!unitOf.containsKey(d)) {
                throw new IommuException("unknown device " + d + ": expected a device of a unit");
            }
            if (owner.containsKey(d)) {
                throw new IommuException("device " + d + " is already attached to guest " + owner.get(d));
            }
            if (reservedMemory.contains(d) && !allowReservedMemory) {
                throw new IommuException("device " + d + " has firmware-reserved memory (RMRR/IVMD): attaching it needs the"
                        + " reserved-memory override");
            }
        }
        requireWholeGroups("attach", guest, devices);
        for (PciAddress d : devices) {
            owner.put(d, guest.value());
            Map<Integer, Integer> dids = didOf.get(unitOf.get(d));
            dids.computeIfAbsent(guest.value(), g -> dids.size() + 1);
        }
        return guest(guest).orElseThrow();
    }

    public synchronized void detach(List<PciAddress> devices) {
        for (PciAddress d : devices) {
            if (!owner.containsKey(d)) {
                throw new IommuException("device " + d + " is not attached");
            }
        }
        requireWholeGroups("detach", null, devices);
        for (PciAddress d : devices) {
            int g = owner.remove(d);
            String unit = unitOf.get(d);
            if (!owner.entrySet().stream().anyMatch(e -> e.getValue() == g && unitOf.get(e.getKey()).equals(unit))) {
                didOf.get(unit).remove(g);
            }
        }
    }

    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        if ((iova & 0xfff) != 0) {
            throw new IommuException(String.format("IOVA 0x%x is not 4 KiB aligned: expected a multiple of 0x1000", iova));
        }
        mapped.add("map " + guest + " " + Long.toHexString(iova) + " " + Long.toHexString(hostAddress) + " " + pages);
    }

    public void unmap(GuestId guest, long iova, long pages) {
        mapped.add("unmap " + guest + " " + Long.toHexString(iova) + " " + pages);
    }

    public synchronized List<GuestDTO> guests() {
        List<GuestDTO> out = new ArrayList<>();
        owner.values().stream().distinct().sorted().forEach(g -> out.add(guest(new GuestId(g)).orElseThrow()));
        return out;
    }

    public synchronized Optional<GuestDTO> guest(GuestId guest) {
        GuestDTO g = new GuestDTO();
        g.guest = guest.value();
        g.devices = new ArrayList<>();
        for (Map.Entry<PciAddress, Integer> e : owner.entrySet()) {
            if (e.getValue() == guest.value()) {
                GuestDeviceDTO d = new GuestDeviceDTO();
                d.bdf = e.getKey().toString();
                d.unit = unitOf.get(e.getKey());
                d.did = didOf.get(d.unit).get(guest.value());
                g.devices.add(d);
            }
        }
        return g.devices.isEmpty() ? Optional.empty() : Optional.of(g);
    }

    public synchronized List<DeviceDTO> devices() {
        List<DeviceDTO> out = new ArrayList<>();
        unitOf.forEach((a, u) -> {
            DeviceDTO d = new DeviceDTO();
            d.bdf = a.toString();
            d.unit = u;
            d.guest = owner.get(a);
            d.reservedMemory = reservedMemory.contains(a);
            d.group = groupOf(a).group;
            out.add(d);
        });
        return out;
    }

    public synchronized List<UnitDTO> units() {
        List<UnitDTO> out = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            UnitDTO u = new UnitDTO();
            u.id = "dmar" + i;
            u.vendor = "vt-d";
            u.segment = 0;
            u.registerBase = 0xfed90000L + 0x1000L * i;
            u.includePciAll = i == 1;
            u.domainIds = 256;
            u.reserved = new int[] {0};
            u.usedDomainIds = didOf.get(u.id).size();
            u.devices = 4;
            out.add(u);
        }
        return out;
    }

    /** What the last recovery reported, for {@link #state()}. */
    int restored;
    final List<String> recoveryProblems = new java.util.ArrayList<>();
    final List<String> rebuilt = new java.util.ArrayList<>();

    public StateDTO state() {
        StateDTO dto = new StateDTO();
        dto.directory = stateDirectory;
        dto.restored = restored;
        dto.problems = List.copyOf(recoveryProblems);
        dto.rebuilt = List.copyOf(rebuilt);
        return dto;
    }

    public List<String> audit() {
        return List.copyOf(problems);
    }

    /** Every unit: as many allocations as ids in use, nothing else. */
    public java.util.Map<String, java.util.Map<String, Long>> allocationCounts() {
        java.util.Map<String, java.util.Map<String, Long>> all = new java.util.TreeMap<>();
        didOf.forEach((unit, dids) -> all.put(unit, java.util.Map.of("allocations", (long) dids.size(), "releases", 0L,
                "failures", 0L, "quarantined", 0L)));
        return all;
    }

    public Optional<String> strategy() {
        return Optional.ofNullable(bound);
    }

    public String requestedStrategy() {
        return requested;
    }

    public Optional<String> strategyProblem() {
        return Optional.ofNullable(problem);
    }

    /** Guest id to devices, for assertions. */
    Map<Integer, List<String>> byGuest() {
        Map<Integer, List<String>> out = new LinkedHashMap<>();
        owner.forEach((d, g) -> out.computeIfAbsent(g, x -> new ArrayList<>()).add(d.toString()));
        return out;
    }

    /** A unit: decodes two CAP fields, translates IOVA 0x1000 of an attached device to 0x200000, faults elsewhere. */
    iommu.api.spi.IommuUnit unit(String id) {
        return Fakes.proxy(iommu.api.spi.IommuUnit.class, new Object() {
            public String id() {
                return id;
            }

            public String vendor() {
                return "vt-d";
            }

            public List<PciAddress> dmaAliases(PciAddress device) {
                return FakeAssignment.this.dmaAliases(id, device);
            }

            /** Firmware memory for the reserved-memory devices, then the interrupt window, as a VT-d unit reports them. */
            public List<iommu.api.spi.IovaRegion> reservedRegions(PciAddress device) {
                return reservedMemory.contains(device)
                        ? List.of(new iommu.api.spi.IovaRegion(0x7a000000L, 0x7a0fffffL,
                                iommu.api.spi.IovaRegion.Type.DIRECT), iommu.api.spi.IovaRegion.INTERRUPT_WINDOW)
                        : List.of(iommu.api.spi.IovaRegion.INTERRUPT_WINDOW);
            }

            public Map<String, Object> describe() {
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("CAP.ND", 2);
                m.put("CAP.CM", false);
                return m;
            }

            public java.util.Optional<iommu.api.spi.DeviceContext> context(PciAddress device) {
                Integer g = owner.get(device);
                return g == null ? java.util.Optional.empty()
                        : java.util.Optional.of(new iommu.api.spi.DeviceContext(DomainId.of(didOf.get(id).get(g)), new GuestId(g)));
            }

            public iommu.api.spi.Translation translate(PciAddress device, long iova) {
                if (owner.containsKey(device) && iova == 0x1000) {
                    return iommu.api.spi.Translation.hit(iova, 0x200000);
                }
                return iommu.api.spi.Translation.fault(iova, 6, "PTE read access is not set");
            }

            public Map<String, Long> invalidationCounts() {
                Map<String, Long> m = new java.util.LinkedHashMap<>();
                m.put("device", 1L);
                m.put("domain", 2L);
                m.put("pages", 3L);
                m.put("global", 0L);
                m.put("performed.wait", 4L);
                return m;
            }
        });
    }

    /** What a flush of the guest would report: one invalidation per unit where it holds a domain id. */
    iommu.api.dto.FlushReportDTO flushReport(GuestId guest, String granularity, Long iova, Long pages) {
        iommu.api.dto.FlushReportDTO r = new iommu.api.dto.FlushReportDTO();
        r.invalidations = new java.util.ArrayList<>();
        map().domainsOf(guest).forEach((u, d) -> {
            iommu.api.dto.InvalidationDTO i = new iommu.api.dto.InvalidationDTO();
            i.unit = u;
            i.granularity = granularity;
            i.did = d.value();
            i.iova = iova;
            i.pages = pages;
            r.invalidations.add(i);
        });
        return r;
    }

    /**
     * A VT-d discovery: recognizes {@code *.txt}, discovers one unit with a
     * warning, forgets a unit (noted in {@code forgotten}) unless a device of
     * it is attached.
     */
    iommu.api.spi.PlatformDiscovery discovery(List<String> forgotten) {
        return Fakes.proxy(iommu.api.spi.PlatformDiscovery.class, new Object() {
            public String vendor() {
                return "vt-d";
            }

            public boolean recognizes(java.nio.file.Path path) {
                return path.toString().endsWith(".txt");
            }

            public iommu.api.dto.DiscoveryDTO discover(java.nio.file.Path path) {
                iommu.api.dto.DiscoveryDTO d = new iommu.api.dto.DiscoveryDTO();
                d.source = path.toString();
                d.format = "platform-file";
                d.units = List.of("dmar7");
                d.devices = 3;
                d.warnings = List.of("line 4: unknown keyword 'frob'");
                return d;
            }

            public void forget(String unitId) {
                if (owner.keySet().stream().anyMatch(a -> unitOf.get(a).equals(unitId))) {
                    throw new iommu.api.IommuException("unit " + unitId + " has attached devices: detach them first");
                }
                forgotten.add(unitId);
            }
        });
    }
}
