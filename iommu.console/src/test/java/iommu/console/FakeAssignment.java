package iommu.console;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import iommu.api.DeviceAssignment;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.UnitDTO;

/** A two-unit platform in memory: devices 0000:3b:00.x under dmar0, 0000:5e:00.x under dmar1. */
class FakeAssignment implements DeviceAssignment {

    final Map<PciAddress, String> unitOf = new TreeMap<>();
    final Map<PciAddress, Integer> owner = new TreeMap<>();
    final Map<String, Map<Integer, Integer>> didOf = new TreeMap<>(); // unit -> guest -> did
    volatile String bound = "per-unit";
    volatile String requested = "per-unit";
    volatile String problem;

    FakeAssignment() {
        for (int f = 0; f < 4; f++) {
            unitOf.put(new PciAddress(0, 0x3b, 0, f), "dmar0");
            unitOf.put(new PciAddress(0, 0x5e, 0, f), "dmar1");
        }
    }

    @Override
    public synchronized GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory) {
        for (PciAddress d : devices) {
            if (!unitOf.containsKey(d)) {
                throw new IommuException("unknown device " + d + ": expected a device of a unit");
            }
            if (owner.containsKey(d)) {
                throw new IommuException("device " + d + " is already attached to guest " + owner.get(d));
            }
        }
        for (PciAddress d : devices) {
            owner.put(d, guest.value());
            Map<Integer, Integer> dids = didOf.computeIfAbsent(unitOf.get(d), u -> new TreeMap<>());
            dids.computeIfAbsent(guest.value(), g -> dids.size() + 1);
        }
        return guest(guest).orElseThrow();
    }

    @Override
    public synchronized void detach(List<PciAddress> devices) {
        for (PciAddress d : devices) {
            if (!owner.containsKey(d)) {
                throw new IommuException("device " + d + " is not attached");
            }
        }
        devices.forEach(owner::remove);
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        throw new UnsupportedOperationException("not modelled by the console's fake");
    }

    @Override
    public void unmap(GuestId guest, long iova, long pages) {
        throw new UnsupportedOperationException("not modelled by the console's fake");
    }

    @Override
    public synchronized List<GuestDTO> guests() {
        List<GuestDTO> out = new ArrayList<>();
        owner.values().stream().distinct().sorted()
                .forEach(g -> out.add(guest(new GuestId(g)).orElseThrow()));
        return out;
    }

    @Override
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

    @Override
    public synchronized List<DeviceDTO> devices() {
        List<DeviceDTO> out = new ArrayList<>();
        unitOf.forEach((a, u) -> {
            DeviceDTO d = new DeviceDTO();
            d.bdf = a.toString();
            d.unit = u;
            d.guest = owner.get(a);
            out.add(d);
        });
        return out;
    }

    @Override
    public List<UnitDTO> units() {
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
            u.usedDomainIds = i;
            u.devices = 4;
            out.add(u);
        }
        return out;
    }

    @Override
    public iommu.api.dto.StateDTO state() {
        iommu.api.dto.StateDTO dto = new iommu.api.dto.StateDTO();
        dto.problems = List.of();
        return dto;
    }

    @Override
    public List<String> audit() {
        return List.of();
    }

    @Override
    public Optional<String> strategy() {
        return Optional.ofNullable(bound);
    }

    @Override
    public String requestedStrategy() {
        return requested;
    }

    @Override
    public Optional<String> strategyProblem() {
        return Optional.ofNullable(problem);
    }
}
