package iommu.console;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import iommu.api.DeviceAssignment;
import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.Quoted;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.dto.FlushReportDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.PlatformDiscovery;
import iommu.api.spi.Translation;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

/**
 * The Gogo commands of scope {@code iommu} (DESIGN section 8). The console
 * only observes and calls: every platform service is an optional, dynamic
 * reference, and a command whose service is missing fails with one line
 * saying which.
 *
 * <p>Commands return objects ({@link Results}) that print as aligned tables,
 * or as JSON with {@code --json}. Every failure is an exception whose message
 * is one line saying what was wrong and what was expected; the shell or the
 * launcher prints it ({@link Errors}).
 */
@Component(service = IommuCommands.class, property = {
        "osgi.command.scope=iommu",
        "osgi.command.function=units",
        "osgi.command.function=unit",
        "osgi.command.function=devices",
        "osgi.command.function=guests",
        "osgi.command.function=guest",
        "osgi.command.function=attach",
        "osgi.command.function=detach",
        "osgi.command.function=domains",
        "osgi.command.function=ctx",
        "osgi.command.function=map",
        "osgi.command.function=unmap",
        "osgi.command.function=translate",
        "osgi.command.function=flush",
        "osgi.command.function=stats",
        "osgi.command.function=discover",
        "osgi.command.function=forget",
        "osgi.command.function=strategy",
        "osgi.command.function=strategies",
        "osgi.command.function=capacity",
        "osgi.command.function=verify",
        "osgi.command.function=state",
        "osgi.command.function=occupancy"
})
public class IommuCommands {

    /** How long {@code strategy NAME} waits for iommu.core to bind the strategy. */
    static final Duration SWITCH_TIMEOUT = Duration.ofSeconds(10);

    /** Each command's synopsis, for errors about its arguments and for the README. */
    static final Map<String, String> USAGE;

    static {
        Map<String, String> u = new LinkedHashMap<>();
        u.put("units", "units [--json]");
        u.put("unit", "unit [--json] ID");
        u.put("devices", "devices [--json]");
        u.put("guests", "guests [--json]");
        u.put("guest", "guest [--json] ID");
        u.put("attach", "attach [--allow-reserved-memory] GUEST BDF...");
        u.put("detach", "detach BDF...");
        u.put("domains", "domains [--json] UNIT");
        u.put("ctx", "ctx [--json] BDF");
        u.put("map", "map GUEST IOVA HPA [PAGES]");
        u.put("unmap", "unmap GUEST IOVA [PAGES]");
        u.put("translate", "translate [--json] BDF IOVA");
        u.put("flush", "flush [--json] GUEST [IOVA PAGES]");
        u.put("stats", "stats [--json]");
        u.put("discover", "discover [--json] PATH");
        u.put("forget", "forget UNIT");
        u.put("strategy", "strategy [NAME]");
        u.put("strategies", "strategies [--json]");
        u.put("capacity", "capacity [--json] [--devices-per-guest N]");
        u.put("verify", "verify");
        u.put("state", "state [--json]");
        u.put("occupancy", "occupancy [UNIT]");
        USAGE = Collections.unmodifiableMap(u);
    }

    /** How much of a path an error shows: more than of other input, since the end of a path says most. */
    static final int PATH_SHOWN = 256;

    /** What {@code discover} and {@code --platform} accept, for the error when nothing recognizes a path. */
    static final String ACCEPTED_FORMATS = "an ACPI DMAR table (binary, signature 'DMAR'), a sysfs-shaped directory"
            + " (class/iommu/dmar*/intel-iommu/...) or a platform file (first line 'iommu-platform 1')";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DeviceAssignment assignment;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DomainIdMap domainIdMap;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile FlushService flushService;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<IommuUnit> unitServices = List.of();

    @Reference(name = "strategies", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<ServiceReference<AllocationStrategy>> strategies = new ArrayList<>();

    @Reference(name = "discoveries", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<ServiceReference<PlatformDiscovery>> discoveries = new ArrayList<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ConfigurationAdmin configAdmin;

    private volatile ComponentContext componentContext;

    /** A strategy service as the console shows it. */
    record StrategyService(String name, String bundle, int ranking, AllocationStrategy service) {
    }

    // Seams: the registry as tests replace it.
    Supplier<List<StrategyService>> strategyServices = this::registeredStrategies;
    Supplier<List<PlatformDiscovery>> discoveryServices = this::registeredDiscoveries;
    Supplier<PrintStream> err = IommuCommands::stderr;
    Supplier<PrintStream> out = IommuCommands::stdout;

    @Activate
    void activate(ComponentContext context) {
        this.componentContext = context;
    }

    private org.osgi.framework.BundleContext bundleContext() {
        ComponentContext cc = componentContext;
        return cc == null ? null : cc.getBundleContext();
    }

    // ================================================================ listings

    @Descriptor("list the IOMMU units: id, vendor, segment, register base, domain ids (total, reserved, used, free) and devices")
    public Results.Units units(
            @Descriptor("print JSON (an array of units) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return new Results.Units(requireAssignment().units(), json);
    }

    @Descriptor("show one unit: its registers and capabilities decoded by name (VT-d: VER, CAP, ECAP) and its domain-id usage")
    public Results.Unit unit(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("unit id, e.g. dmar0, or a unique part of one, e.g. 0") String id) {
        DeviceAssignment da = requireAssignment();
        UnitDTO u = findUnit(da.units(), id);
        Map<String, Object> decoded = unitService(u.id).map(IommuUnit::describe).orElse(Map.of());
        Map<Integer, Integer> domains = new TreeMap<>();
        DomainIdMap map = domainIdMap;
        if (map != null) {
            map.domainsOn(u.id).forEach((did, g) -> domains.put(did.value(), g.value()));
        }
        int attached = (int) da.devices().stream().filter(d -> u.id.equals(d.unit) && d.guest != null).count();
        return new Results.Unit(u, new LinkedHashMap<>(decoded), domains, attached, json);
    }

    @Descriptor("list the PCI devices: address, the unit translating it, its guest (- when unattached), whether firmware reserves memory for it (RMRR/IVMD)")
    public Results.Devices devices(
            @Descriptor("print JSON (an array of devices, guest null when unattached) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return new Results.Devices(requireAssignment().devices(), json);
    }

    @Descriptor("list the guests holding devices, with each device's unit and domain id")
    public Results.Guests guests(
            @Descriptor("print JSON (an array of guests with their devices) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return new Results.Guests(requireAssignment().guests(), json);
    }

    @Descriptor("show one guest: its devices and its domain id on each unit")
    public Results.Guest guest(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, e.g. 7, or a unique part of one") String id) {
        DeviceAssignment da = requireAssignment();
        List<GuestDTO> guests = da.guests();
        if (id != null && !id.isBlank() && !id.trim().matches("[0-9]+")) {
            GuestId.parse(id); // says what a guest id looks like
        }
        List<String> ids = guests.stream().map(g -> Integer.toString(g.guest)).toList();
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("no guest holds a device: expected a guest id that 'guests' lists");
        }
        String found = Matching.one("guest", id, ids);
        GuestDTO g = guests.stream().filter(x -> Integer.toString(x.guest).equals(found)).findFirst().orElseThrow();
        return new Results.Guest(g, domainIdsOf(g), json);
    }

    // ================================================================ attach, detach

    @Descriptor("attach PCI devices to a guest (all or none); prints the guest's devices with their domain ids")
    public Results.Guest attach(
            @Descriptor("also attach devices for which firmware reserves memory (RMRR/IVMD), which are refused otherwise")
            @Parameter(names = "--allow-reserved-memory", presentValue = "true", absentValue = "false") boolean allowReservedMemory,
            @Descriptor("guest id, a decimal number 1..32751") String guest,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1") String... devices) {
        GuestId id = GuestId.parse(guest);
        List<PciAddress> addresses = parseDevices("attach", devices);
        DeviceAssignment da = requireAssignment();
        GuestDTO result = da.attach(id, addresses, allowReservedMemory);
        return new Results.Guest(result, domainIdsOf(result), false);
    }

    @Descriptor("detach PCI devices from their guests (all or none); prints what was detached")
    public String detach(
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1") String... devices) {
        List<PciAddress> addresses = parseDevices("detach", devices);
        DeviceAssignment da = requireAssignment();
        // What each device was attached to, for the report: read before the detach.
        List<GuestDTO> before = da.guests();
        da.detach(addresses);
        Table t = new Table("BDF", "GUEST", "UNIT", "DID").alignRight(1, 3);
        for (PciAddress a : addresses) {
            String bdf = a.toString();
            Optional<Object[]> owner = ownerOf(before, bdf);
            if (owner.isPresent()) {
                Object[] o = owner.get();
                t.row(bdf, o[0], o[1], o[2]);
            } else {
                t.row(bdf, null, null, null);
            }
        }
        return "detached\n" + t.render();
    }

    private static Optional<Object[]> ownerOf(List<GuestDTO> guests, String bdf) {
        for (GuestDTO g : guests) {
            if (g.devices == null) {
                continue;
            }
            for (GuestDeviceDTO d : g.devices) {
                if (bdf.equalsIgnoreCase(d.bdf)) {
                    return Optional.of(new Object[] {g.guest, d.unit, d.did});
                }
            }
        }
        return Optional.empty();
    }

    static List<PciAddress> parseDevices(String command, String... devices) {
        if (devices == null || devices.length == 0) {
            throw new IllegalArgumentException(command
                    + ": missing device: expected one or more PCI addresses SSSS:BB:DD.F, e.g. 0000:3b:00.1");
        }
        Map<PciAddress, String> typed = new LinkedHashMap<>();
        for (String d : devices) {
            PciAddress a = PciAddress.parse(d);
            String before = typed.putIfAbsent(a, d);
            if (before != null) {
                throw new IllegalArgumentException(command + ": device " + a + " is given twice (as " + Quoted.of(before)
                        + " and " + Quoted.of(d) + "): expected each device once");
            }
        }
        return new ArrayList<>(typed.keySet());
    }

    // ================================================================ one unit's tables

    @Descriptor("list a unit's domain ids in use: DID, the guest holding it and its devices there")
    public Results.Domains domains(
            @Descriptor("print JSON (one object with a domains array) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("unit id, e.g. dmar0, or a unique part of one") String unit) {
        DeviceAssignment da = requireAssignment();
        UnitDTO u = findUnit(da.units(), unit);
        Map<DomainId, GuestId> on = requireMap().domainsOn(u.id);
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
        List<Results.DomainRow> rows = new ArrayList<>();
        on.forEach((did, g) -> rows.add(new Results.DomainRow(did.value(), g.value(),
                devicesOf.getOrDefault(g.value(), List.of()))));
        return new Results.Domains(u.id, u.domainIds, u.reserved, rows, json);
    }

    @Descriptor("show a device's context entry as its unit holds it, decoded (VT-d: present, TT, AW, SLPTPTR, DID, the raw bits)")
    public Results.Context ctx(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F, e.g. 0000:3b:00.2") String bdf) {
        PciAddress device = PciAddress.parse(bdf);
        DeviceDTO d = findDevice(device);
        IommuUnit unit = requireUnitService(d.unit);
        return new Results.Context(device.toString(), d.unit, d.guest, new LinkedHashMap<>(unit.describeContext(device)),
                json);
    }

    // ================================================================ guest I/O pages

    @Descriptor("map 4 KiB pages of a guest's I/O space (IOVA to host-physical address) on every unit where it holds a domain id, now and later")
    public String map(
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("first host-physical address, 4 KiB aligned: decimal or hexadecimal with 0x") String hpa) {
        return map(guest, iova, hpa, "1");
    }

    @Descriptor("map PAGES 4 KiB pages of a guest's I/O space (IOVA to host-physical address) on every unit where it holds a domain id, now and later")
    public String map(
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("first host-physical address, 4 KiB aligned: decimal or hexadecimal with 0x") String hpa,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        GuestId g = GuestId.parse(guest);
        long from = Numbers.parse("IOVA", iova);
        long host = Numbers.parse("host address", hpa);
        long n = Numbers.pages(pages);
        DeviceAssignment da = requireAssignment();
        da.map(g, from, host, n);
        return "mapped " + pagesText(n) + " of guest " + g + ": IOVA " + range(from, n) + " -> host " + range(host, n)
                + " (" + unitsText(g) + ")";
    }

    @Descriptor("unmap one 4 KiB page of a guest's I/O space and wait until the units invalidated it")
    public String unmap(
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova) {
        return unmap(guest, iova, "1");
    }

    @Descriptor("unmap PAGES 4 KiB pages of a guest's I/O space and wait until the units invalidated them (pages not mapped are skipped)")
    public String unmap(
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        GuestId g = GuestId.parse(guest);
        long from = Numbers.parse("IOVA", iova);
        long n = Numbers.pages(pages);
        requireAssignment().unmap(g, from, n);
        return "unmapped " + pagesText(n) + " of guest " + g + ": IOVA " + range(from, n) + " (" + unitsText(g) + ")";
    }

    @Descriptor("simulate a device's DMA to an I/O virtual address: prints the host-physical address, or the fault and its reason (a fault is a result, not a failure)")
    public Results.Translated translate(
            @Descriptor("print JSON (one object; hostAddress null and fault set on a fault) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F") String bdf,
            @Descriptor("I/O virtual address: decimal or hexadecimal with 0x") String iova) {
        PciAddress device = PciAddress.parse(bdf);
        long address = Numbers.parse("IOVA", iova);
        DeviceDTO d = findDevice(device);
        IommuUnit unit = requireUnitService(d.unit);
        Translation t = unit.translate(device, address);
        Optional<DeviceContext> c = unit.context(device);
        return new Results.Translated(device.toString(), d.unit, c.map(x -> x.guest().value()).orElse(null),
                c.map(x -> x.domainId().value()).orElse(null), t, json);
    }

    @Descriptor("invalidate everything a guest may have cached, on every unit where it holds a domain id; prints what was issued per unit and granularity")
    public Results.Flushed flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") String guest) {
        GuestId g = GuestId.parse(guest);
        FlushReportDTO report = requireFlush().flushGuest(g);
        return new Results.Flushed(g.value(), report, json);
    }

    @Descriptor("invalidate a range of a guest's I/O pages on every unit where it holds a domain id (page-selective where the unit allows); prints what was issued")
    public Results.Flushed flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("first I/O virtual address: decimal or hexadecimal with 0x") String iova,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        GuestId g = GuestId.parse(guest);
        long from = Numbers.parse("IOVA", iova);
        long n = Numbers.pages(pages);
        FlushReportDTO report = requireFlush().flushPages(g, from, n);
        return new Results.Flushed(g.value(), report, json);
    }

    @Descriptor("per unit: domain ids (total, reserved, used, free) and the invalidations it received by granularity (device, domain, pages, global)")
    public Results.Stats stats(
            @Descriptor("print JSON (an array of units, every counter the unit reports under invalidations) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        List<Results.StatsRow> rows = new ArrayList<>();
        DeviceAssignment da = requireAssignment();
        Map<String, Map<String, Long>> allocations = da.allocationCounts();
        for (UnitDTO u : da.units()) {
            int reserved = u.reserved == null ? 0 : u.reserved.length;
            Map<String, Long> counts = new LinkedHashMap<>();
            unitService(u.id).ifPresent(s -> counts.putAll(s.invalidationCounts()));
            rows.add(new Results.StatsRow(u.id, u.domainIds, reserved, u.usedDomainIds,
                    Math.max(0, u.domainIds - reserved - u.usedDomainIds), allocations.getOrDefault(u.id, Map.of()),
                    counts));
        }
        return new Results.Stats(rows, json);
    }

    // ================================================================ discovery

    @Descriptor("read a platform (ACPI DMAR table, sysfs-shaped directory or platform file) and register its units; prints the units, devices and warnings")
    public Results.Discovered discover(CommandSession session,
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("path of the DMAR table, sysfs directory or platform file") String path) {
        Path p = resolve(session, path);
        PlatformDiscovery d = discoveryFor(p);
        Set<String> before = presentUnitIds();
        DiscoveryDTO dto;
        try (Progress progress = Progress.start(err.get(), "discovering " + p,
                () -> newUnits(before) + " units registered so far")) {
            dto = d.discover(p);
        }
        return new Results.Discovered(d.vendor(), dto, json);
    }

    @Descriptor("unregister a unit that has no attached device (its vendor's discovery forgets it)")
    public String forget(@Descriptor("unit id, e.g. dmar5, or a unique part of one") String unit) {
        DeviceAssignment da = requireAssignment();
        UnitDTO u = findUnit(da.units(), unit);
        PlatformDiscovery d = discoveryServices.get().stream().filter(x -> u.vendor.equals(x.vendor())).findFirst()
                .orElseThrow(() -> new IommuException("cannot forget unit " + u.id + ": no platform discovery of vendor '"
                        + u.vendor + "' is present (expected its vendor bundle to register PlatformDiscovery)"));
        d.forget(u.id);
        return "forgot unit " + u.id + " (" + u.vendor + "): its " + u.devices + " devices are no longer translated";
    }

    /** The discovery that reads the path: the first (highest ranking) that recognizes it. */
    PlatformDiscovery discoveryFor(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalArgumentException(Quoted.of(p.toString(), PATH_SHOWN) + " not found: expected "
                    + ACCEPTED_FORMATS);
        }
        List<PlatformDiscovery> all = discoveryServices.get();
        if (all.isEmpty()) {
            throw new IommuException("no platform discovery service is present: expected a vendor bundle (iommu.vtd)"
                    + " to register PlatformDiscovery");
        }
        for (PlatformDiscovery d : all) {
            if (d.recognizes(p)) {
                return d;
            }
        }
        throw new UnrecognizedPlatformException(Quoted.of(p.toString(), PATH_SHOWN) + " is not a platform any discovery reads ("
                + String.join(", ", all.stream().map(PlatformDiscovery::vendor).toList()) + "): expected "
                + ACCEPTED_FORMATS);
    }

    /** No discovery recognizes a path: the launcher exits 2 for it. */
    static final class UnrecognizedPlatformException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnrecognizedPlatformException(String message) {
            super(message);
        }
    }

    private static Path resolve(CommandSession session, String path) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("missing path: expected " + ACCEPTED_FORMATS);
        }
        Path p;
        try {
            p = Paths.get(path.trim());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("malformed path " + Quoted.of(path, PATH_SHOWN) + ": " + e.getReason()
                    + ": expected " + ACCEPTED_FORMATS);
        }
        if (!p.isAbsolute() && session != null) {
            Path dir = session.currentDir();
            if (dir != null) {
                p = dir.resolve(p);
            }
        }
        return p.normalize();
    }

    Set<String> presentUnitIds() {
        Set<String> ids = new TreeSet<>();
        for (IommuUnit u : unitServices) {
            ids.add(u.id());
        }
        return ids;
    }

    int newUnits(Set<String> before) {
        Set<String> now = presentUnitIds();
        now.removeAll(before);
        return now.size();
    }

    // ================================================================ strategies

    @Descriptor("print the bound domain-id allocation strategy")
    public String strategy() {
        return strategySwitch().current();
    }

    @Descriptor("select the domain-id allocation strategy (guests keep their devices); waits until iommu.core bound it, showing progress of a long renumbering on stderr")
    public String strategy(
            @Descriptor("strategy name, one of the registered AllocationStrategy services, e.g. global or per-unit") String name) {
        StrategySwitch sw = strategySwitch();
        String shown = Quoted.of(name == null ? null : name.trim());
        try (Progress progress = Progress.start(err.get(), "switching to strategy " + shown);
                RenumberingTap tap = RenumberingTap.open(bundleContext(), progress::status)) {
            return sw.switchTo(name);
        }
    }

    @Descriptor("list the allocation strategy services: name, bundle, service ranking, whether bound, the capacity it would give on the units present")
    public Results.Strategies strategies(
            @Descriptor("print JSON (an array of strategies) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = assignment;
        Optional<String> bound = da == null ? Optional.empty() : da.strategy();
        List<UnitDescriptor> descriptors = da == null ? List.of() : descriptors(da.units());
        List<Results.StrategyRow> rows = new ArrayList<>();
        Set<String> boundShown = new LinkedHashSet<>();
        for (StrategyService s : strategyServices.get()) {
            boolean isBound = bound.isPresent() && bound.get().equals(s.name()) && boundShown.add(s.name());
            rows.add(new Results.StrategyRow(s.name(), s.bundle(), s.ranking(), isBound,
                    s.service().capacity(descriptors), CoreText.oneLine(s.service().description())));
        }
        return new Results.Strategies(rows, json);
    }

    @Descriptor("plan: how many guests each strategy admits on the platform as it is now, when every guest has N devices"
            + " all under one unit. Per unit, usable = domain ids - reserved and fit = floor(devices / N);"
            + " each strategy says what it admits on these units and how (AllocationStrategy.admits)."
            + " Prints the inputs and the results")
    public Results.Capacity capacity(
            @Descriptor("print JSON (inputs per unit and the result per strategy) instead of tables")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("devices each guest gets, all under one unit (default 1, e.g. one SR-IOV VF per guest)")
            @Parameter(names = "--devices-per-guest", absentValue = "1") String devicesPerGuest) {
        int n = Numbers.positiveInt("devices per guest", devicesPerGuest);
        List<UnitDTO> units = requireAssignment().units();
        List<UnitDescriptor> descriptors = descriptors(units);
        List<UnitLoad> loads = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            loads.add(new UnitLoad(descriptors.get(i), units.get(i).devices));
        }
        CapacityPlan plan = new CapacityPlan(loads, n);
        List<CapacityPlan.StrategyRow> rows = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (StrategyService s : strategyServices.get()) {
            if (seen.add(s.name())) {
                CapacityEstimate e = s.service().admits(plan.loads, n);
                rows.add(new CapacityPlan.StrategyRow(s.name(), e.admits(), CoreText.oneLine(e.model())));
            }
        }
        return new Results.Capacity(plan, rows, json);
    }

    // ================================================================ checks and pictures

    @Descriptor("audit that the domain-id map, the strategy's bitmaps and every unit's context entries agree; prints each disagreement and fails when there is one")
    public String verify() {
        DeviceAssignment da = requireAssignment();
        List<String> problems = da.audit();
        int units = da.units().size();
        if (problems.isEmpty()) {
            return "ok: map, strategy bitmaps and " + units + (units == 1 ? " unit's" : " units'")
                    + " context entries agree";
        }
        PrintStream o = out.get();
        for (String p : problems) {
            o.println(CoreText.oneLine(p));
        }
        o.flush();
        throw new IommuException("verify: " + problems.size() + (problems.size() == 1 ? " disagreement" : " disagreements")
                + " between the map, the strategy's bitmaps and the units' context entries (listed above)");
    }

    @Descriptor("show where state is kept (--state DIR: the journal and the units' table files) and what the last"
            + " recovery found: attachments restored from the journal, and each disagreement between the journal and"
            + " the units' kept tables")
    public Object state(
            @Parameter(names = "--json", absentValue = "false", presentValue = "true")
            @Descriptor("print JSON (one object) instead of text") boolean json) {
        return new Results.State(requireAssignment().state(), json);
    }

    @Descriptor("a picture of every unit's domain ids: # used, r reserved, . free, 64 cells a row")
    public String occupancy() {
        DeviceAssignment da = requireAssignment();
        List<String> pictures = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            pictures.add(picture(u));
        }
        return pictures.isEmpty() ? "no IOMMU unit present" : String.join("\n\n", pictures);
    }

    @Descriptor("a picture of one unit's domain ids: # used, r reserved, . free, 64 cells a row (large units fold runs of ids into a cell)")
    public String occupancy(@Descriptor("unit id, e.g. dmar0, or a unique part of one") String unit) {
        return picture(findUnit(requireAssignment().units(), unit));
    }

    private String picture(UnitDTO u) {
        BitSet reserved = new BitSet(u.domainIds);
        if (u.reserved != null) {
            for (int r : u.reserved) {
                reserved.set(r);
            }
        }
        BitSet used = new BitSet(u.domainIds);
        requireMap().domainsOn(u.id).keySet().forEach(d -> used.set(d.value()));
        return Occupancy.render(u.id, u.domainIds, reserved, used);
    }

    // ================================================================ completion

    /** A tab-completion candidate and what it is. */
    record Candidate(String value, String description) {
    }

    /** Options that take a value (their value is not a positional argument). */
    private static final Set<String> VALUED_OPTIONS = Set.of("--devices-per-guest");

    /**
     * Candidates for the next argument of an {@code iommu} command: unit ids,
     * BDFs, guest ids or strategy names, depending on the command and the
     * argument's position. Empty when nothing is known or a service is missing.
     *
     * @param function the command without scope, e.g. {@code attach}
     * @param typed the words typed after the command, before the one being completed
     */
    List<Candidate> candidates(String function, List<String> typed) {
        int position = 0;
        for (int i = 0; i < typed.size(); i++) {
            String w = typed.get(i);
            if (w.startsWith("--")) {
                if (VALUED_OPTIONS.contains(w)) {
                    i++;
                }
                continue;
            }
            position++;
        }
        DeviceAssignment da = assignment;
        if (da == null) {
            return List.of();
        }
        try {
            return switch (function) {
                case "unit", "domains", "occupancy", "forget" -> position == 0 ? unitCandidates(da) : List.of();
                case "guest", "map", "unmap", "flush" -> position == 0 ? guestCandidates(da, false) : List.of();
                case "ctx", "translate" -> position == 0 ? deviceCandidates(da, typed, d -> true) : List.of();
                case "attach" -> position == 0 ? guestCandidates(da, true)
                        : deviceCandidates(da, typed, d -> d.guest == null);
                case "detach" -> deviceCandidates(da, typed, d -> d.guest != null);
                case "strategy" -> position == 0 ? strategyCandidates() : List.of();
                default -> List.of();
            };
        } catch (RuntimeException e) {
            return List.of(); // a completion never fails the prompt
        }
    }

    private static List<Candidate> unitCandidates(DeviceAssignment da) {
        List<Candidate> out = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            out.add(new Candidate(u.id, u.vendor + ", " + u.devices + " devices, " + u.usedDomainIds + "/" + u.domainIds
                    + " domain ids used"));
        }
        return out;
    }

    private static List<Candidate> guestCandidates(DeviceAssignment da, boolean offerNew) {
        List<Candidate> out = new ArrayList<>();
        int max = 0;
        for (GuestDTO g : da.guests()) {
            int n = g.devices == null ? 0 : g.devices.size();
            out.add(new Candidate(Integer.toString(g.guest), "guest with " + n + (n == 1 ? " device" : " devices")));
            max = Math.max(max, g.guest);
        }
        if (offerNew && max < GuestId.MAX) {
            out.add(new Candidate(Integer.toString(max + 1), "a new guest"));
        }
        return out;
    }

    private static List<Candidate> deviceCandidates(DeviceAssignment da, List<String> typed,
            java.util.function.Predicate<DeviceDTO> which) {
        Set<String> already = new TreeSet<>();
        for (String t : typed) {
            already.add(t.toLowerCase());
        }
        List<Candidate> out = new ArrayList<>();
        for (DeviceDTO d : da.devices()) {
            if (which.test(d) && !already.contains(d.bdf.toLowerCase())) {
                out.add(new Candidate(d.bdf, d.unit + (d.guest == null ? ", host" : ", guest " + d.guest)
                        + (d.reservedMemory ? ", reserved memory" : "")));
            }
        }
        return out;
    }

    private List<Candidate> strategyCandidates() {
        List<Candidate> out = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (StrategyService s : strategyServices.get()) {
            if (seen.add(s.name())) {
                out.add(new Candidate(s.name(), CoreText.oneLine(s.service().description())));
            }
        }
        return out;
    }

    // ================================================================ services and lookups

    StrategySwitch strategySwitch() {
        return new StrategySwitch(() -> assignment, this::strategyNames, () -> configAdmin, SWITCH_TIMEOUT);
    }

    Collection<String> strategyNames() {
        Set<String> names = new TreeSet<>();
        for (ServiceReference<AllocationStrategy> ref : strategies) {
            Object name = ref.getProperty(AllocationStrategy.NAME);
            if (name != null) {
                names.add(String.valueOf(name));
            }
        }
        if (names.isEmpty() && strategies.isEmpty()) {
            for (StrategyService s : strategyServices.get()) {
                names.add(s.name());
            }
        }
        return names;
    }

    private List<StrategyService> registeredStrategies() {
        ComponentContext cc = componentContext;
        List<StrategyService> out = new ArrayList<>();
        if (cc == null) {
            return out;
        }
        for (ServiceReference<AllocationStrategy> ref : strategies) {
            AllocationStrategy s = (AllocationStrategy) cc.locateService("strategies", ref);
            if (s == null) {
                continue;
            }
            Object name = ref.getProperty(AllocationStrategy.NAME);
            Object ranking = ref.getProperty(Constants.SERVICE_RANKING);
            String bundle = ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
            out.add(new StrategyService(name == null ? s.name() : String.valueOf(name), bundle,
                    ranking instanceof Integer r ? r : 0, s));
        }
        out.sort(Comparator.comparing(StrategyService::name).thenComparing(StrategyService::ranking,
                Comparator.reverseOrder()));
        return out;
    }

    private List<PlatformDiscovery> registeredDiscoveries() {
        ComponentContext cc = componentContext;
        List<PlatformDiscovery> out = new ArrayList<>();
        if (cc == null) {
            return out;
        }
        List<ServiceReference<PlatformDiscovery>> refs = new ArrayList<>(discoveries);
        refs.sort(Collections.reverseOrder()); // highest ranking first, then lowest service id
        for (ServiceReference<PlatformDiscovery> ref : refs) {
            PlatformDiscovery d = (PlatformDiscovery) cc.locateService("discoveries", ref);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    static List<UnitDescriptor> descriptors(List<UnitDTO> units) {
        List<UnitDescriptor> out = new ArrayList<>();
        for (UnitDTO u : units) {
            Set<DomainId> reserved = new TreeSet<>();
            if (u.reserved != null) {
                for (int r : u.reserved) {
                    reserved.add(DomainId.of(r));
                }
            }
            out.add(new UnitDescriptor(u.id, u.domainIds, reserved));
        }
        return out;
    }

    private Map<String, Integer> domainIdsOf(GuestDTO g) {
        Map<String, Integer> out = new TreeMap<>();
        DomainIdMap map = domainIdMap;
        if (map != null) {
            map.domainsOf(new GuestId(g.guest)).forEach((u, d) -> out.put(u, d.value()));
        } else if (g.devices != null) {
            g.devices.forEach(d -> out.put(d.unit, d.did));
        }
        return out;
    }

    private String unitsText(GuestId g) {
        DomainIdMap map = domainIdMap;
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

    static UnitDTO findUnit(List<UnitDTO> units, String typed) {
        List<String> ids = units.stream().map(u -> u.id).toList();
        String id = Matching.one("unit", typed, ids);
        return units.stream().filter(u -> u.id.equals(id)).findFirst().orElseThrow();
    }

    private DeviceDTO findDevice(PciAddress device) {
        String bdf = device.toString();
        for (DeviceDTO d : requireAssignment().devices()) {
            if (bdf.equalsIgnoreCase(d.bdf)) {
                return d;
            }
        }
        throw new IommuException("unknown device " + bdf + ": no unit translates it (expected a device that 'devices' lists)");
    }

    Optional<IommuUnit> unitService(String id) {
        for (IommuUnit u : unitServices) {
            if (u.id().equals(id)) {
                return Optional.of(u);
            }
        }
        return Optional.empty();
    }

    private IommuUnit requireUnitService(String id) {
        return unitService(id).orElseThrow(() -> new IommuException("unit " + id
                + " is not available as a service: expected its vendor bundle to register it"));
    }

    DeviceAssignment requireAssignment() {
        DeviceAssignment da = assignment;
        if (da == null) {
            throw new IommuException("the device assignment service is not available: expected bundle iommu.core to be active");
        }
        return da;
    }

    private DomainIdMap requireMap() {
        DomainIdMap m = domainIdMap;
        if (m == null) {
            throw new IommuException("the domain-id map service is not available: expected bundle iommu.core to be active");
        }
        return m;
    }

    private FlushService requireFlush() {
        FlushService f = flushService;
        if (f == null) {
            throw new IommuException("the flush service is not available: expected bundle iommu.flush to be active");
        }
        return f;
    }

    /** Standard error of the running command (Gogo redirects it per command), else the process's. */
    static PrintStream stderr() {
        try {
            org.apache.felix.service.command.Process p = org.apache.felix.service.command.Process.Utils.current();
            if (p != null) {
                return p.err();
            }
        } catch (RuntimeException | LinkageError e) {
            // not inside a Gogo command
        }
        return System.err;
    }

    /** Standard output of the running command, else the process's. */
    static PrintStream stdout() {
        try {
            org.apache.felix.service.command.Process p = org.apache.felix.service.command.Process.Utils.current();
            if (p != null) {
                return p.out();
            }
        } catch (RuntimeException | LinkageError e) {
            // not inside a Gogo command
        }
        return System.out;
    }
}
