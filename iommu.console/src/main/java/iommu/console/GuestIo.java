package iommu.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import iommu.api.DeviceAssignment;
import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.Quoted;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.FlushReportDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.Translation;
import iommu.console.dto.DetachedDTO;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.DetachedDeviceDTO;
import iommu.console.dto.FaultDTO;
import iommu.console.dto.FlushDTO;
import iommu.console.dto.GuestDetailDTO;
import iommu.console.dto.TranslationDTO;

/**
 * What changes guests and their I/O: {@code attach}, {@code detach}, {@code map}, {@code unmap},
 * {@code translate} and {@code flush}, their arguments checked before anything changes.
 */
final class GuestIo {

    private final IommuCommands c;

    GuestIo(IommuCommands commands) {
        this.c = commands;
    }

    GuestDetailDTO attach(boolean allowReservedMemory, boolean group, GuestArgument guest, DeviceArgument... devices) {
        GuestId id = guest.value();
        List<PciAddress> addresses = parseDevices("attach", devices);
        DeviceAssignment da = c.requireAssignment();
        if (group) {
            addresses = wholeGroup("attach", da, addresses);
        }
        return Inspection.guestDetail(c.domainIdMap, da.attach(id, addresses, allowReservedMemory));
    }

    DetachedDTO detach(boolean group, DeviceArgument... devices) {
        List<PciAddress> parsed = parseDevices("detach", devices);
        DeviceAssignment da = c.requireAssignment();
        List<PciAddress> addresses = group ? wholeGroup("detach", da, parsed) : parsed;
        // What each device was attached to, for the report: read before the detach.
        List<GuestDTO> before = da.guests();
        da.detach(addresses);
        DetachedDTO r = new DetachedDTO();
        r.devices = new ArrayList<>();
        for (PciAddress a : addresses) {
            DetachedDeviceDTO d = new DetachedDeviceDTO();
            d.bdf = a.toString();
            ownerOf(before, d.bdf).ifPresent(o -> {
                d.guest = o.guest;
                d.unit = o.unit;
                d.did = o.did;
            });
            r.devices.add(d);
        }
        return r;
    }

    DeviceListDTO release(boolean group, DeviceArgument... devices) {
        List<PciAddress> parsed = parseDevices("release", devices);
        DeviceAssignment da = c.requireAssignment();
        List<PciAddress> addresses = group ? wholeGroup("release", da, parsed) : parsed;
        da.release(addresses);
        java.util.Set<String> released = new java.util.HashSet<>();
        addresses.forEach(a -> released.add(a.toString()));
        DeviceListDTO r = new DeviceListDTO();
        r.devices = da.devices().stream().filter(d -> released.contains(d.bdf)).toList();
        return r;
    }

    String map(GuestArgument guest, String iova, String hpa) {
        return map(guest, iova, hpa, "1");
    }

    String map(GuestArgument guest, String iova, String hpa, String pages) {
        GuestId g = guest.value();
        long from = Numbers.parse("IOVA", iova);
        long host = Numbers.parse("host address", hpa);
        long n = Numbers.pages(pages);
        DeviceAssignment da = c.requireAssignment();
        da.map(g, from, host, n);
        return "mapped " + pagesText(n) + " of guest " + g + ": IOVA " + range(from, n) + " -> host " + range(host, n)
                + " (" + unitsText(g) + ")";
    }

    String unmap(GuestArgument guest, String iova) {
        return unmap(guest, iova, "1");
    }

    String unmap(GuestArgument guest, String iova, String pages) {
        GuestId g = guest.value();
        long from = Numbers.parse("IOVA", iova);
        long n = Numbers.pages(pages);
        c.requireAssignment().unmap(g, from, n);
        return "unmapped " + pagesText(n) + " of guest " + g + ": IOVA " + range(from, n) + " (" + unitsText(g) + ")";
    }

    TranslationDTO translate(DeviceArgument bdf, String iova) {
        PciAddress device = bdf.value();
        long address = Numbers.parse("IOVA", iova);
        DeviceDTO d = c.findDevice(device);
        IommuUnit unit = c.requireUnitService(d.unit);
        Translation t = unit.translate(device, address);
        Optional<DeviceContext> c = unit.context(device);
        TranslationDTO r = new TranslationDTO();
        r.bdf = device.toString();
        r.unit = d.unit;
        r.guest = c.filter(x -> !x.isHost()).map(x -> x.guest().value()).orElse(null);
        r.hostDomain = c.isPresent() && c.get().isHost();
        r.quarantined = d.quarantined;
        r.did = c.map(x -> x.domainId().value()).orElse(null);
        r.iova = t.iova();
        if (t.isFault()) {
            r.fault = new FaultDTO();
            r.fault.reason = t.faultReason();
            r.fault.description = t.fault();
        } else {
            r.hostAddress = t.hostAddress().getAsLong();
        }
        return r;
    }

    FlushDTO flush(GuestArgument guest) {
        GuestId g = guest.value();
        return flushed(g, c.requireFlush().flushGuest(g));
    }

    FlushDTO flush(GuestArgument guest, String iova, String pages) {
        GuestId g = guest.value();
        long from = Numbers.parse("IOVA", iova);
        long n = Numbers.pages(pages);
        return flushed(g, c.requireFlush().flushPages(g, from, n));
    }

    /** The guest holding the device and its entry there. */
    private static Optional<Owner> ownerOf(List<GuestDTO> guests, String bdf) {
        for (GuestDTO g : guests) {
            if (g.devices == null) {
                continue;
            }
            for (GuestDeviceDTO d : g.devices) {
                if (bdf.equalsIgnoreCase(d.bdf)) {
                    return Optional.of(new Owner(g.guest, d.unit, d.did));
                }
            }
        }
        return Optional.empty();
    }

    private record Owner(int guest, String unit, int did) {
    }

    /**
     * {@code --group}: the one device given stands for its whole IOMMU group, every member of which goes to the
     * one call (so it stays all or nothing). A device in no group goes alone, for the service's own error.
     */
    private static List<PciAddress> wholeGroup(String command, DeviceAssignment da, List<PciAddress> devices) {
        if (devices.size() != 1) {
            throw new IllegalArgumentException(command + ": --group takes one device, " + devices.size() + " given: expected '"
                    + CommandList.USAGE.get(command) + "' (see 'help " + command + "')");
        }
        Optional<GroupDTO> g = Inspection.groupOf(da.groups(), devices.get(0));
        if (g.isEmpty()) {
            return devices;
        }
        List<PciAddress> members = new ArrayList<>();
        for (String bdf : g.get().devices) {
            members.add(PciAddress.parse(bdf));
        }
        return members;
    }

    static List<PciAddress> parseDevices(String command, DeviceArgument... devices) {
        if (devices == null || devices.length == 0) {
            throw new IllegalArgumentException(command
                    + ": missing device: expected one or more PCI addresses SSSS:BB:DD.F, e.g. 0000:3b:00.1");
        }
        Map<PciAddress, String> typed = new LinkedHashMap<>();
        for (DeviceArgument d : devices) {
            PciAddress a = d.value();
            String before = typed.putIfAbsent(a, d.typed);
            if (before != null) {
                throw new IllegalArgumentException(command + ": device " + a + " is given twice (as " + Quoted.of(before)
                        + " and " + Quoted.of(d.typed) + "): expected each device once");
            }
        }
        return new ArrayList<>(typed.keySet());
    }

    private static FlushDTO flushed(GuestId g, FlushReportDTO report) {
        FlushDTO r = new FlushDTO();
        r.guest = g.value();
        r.invalidations = report == null || report.invalidations == null ? List.of() : List.copyOf(report.invalidations);
        return r;
    }

    private String unitsText(GuestId g) {
        DomainIdMap map = c.domainIdMap;
        Map<String, DomainId> on = map == null ? Map.of() : new TreeMap<>(map.domainsOf(g));
        return on.isEmpty() ? "on no unit yet: written to each unit where the guest gets a device"
                : "on " + String.join(", ", on.keySet());
    }

    private static String pagesText(long n) {
        return n + (n == 1 ? " page" : " pages");
    }

    private static String range(long from, long pages) {
        long last = from + pages * 4096 - 1;
        return Numbers.hex(from) + "-" + Numbers.hex(last);
    }
}
