package iommu.console;

import java.io.PrintStream;
import java.nio.file.Path;
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
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
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
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.PlatformDiscovery;
import iommu.api.spi.Translation;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;
import iommu.console.dto.AdmitsDTO;
import iommu.console.dto.CapacityDTO;
import iommu.console.dto.ContextEntryDTO;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.DiscoveredDTO;
import iommu.console.dto.DomainDTO;
import iommu.console.dto.FaultDTO;
import iommu.console.dto.FlushDTO;
import iommu.console.dto.GuestDetailDTO;
import iommu.console.dto.GuestListDTO;
import iommu.console.dto.StatsDTO;
import iommu.console.dto.StrategyDTO;
import iommu.console.dto.StrategyListDTO;
import iommu.console.dto.TranslationDTO;
import iommu.console.dto.UnitCapacityDTO;
import iommu.console.dto.UnitDetailDTO;
import iommu.console.dto.UnitDomainsDTO;
import iommu.console.dto.UnitListDTO;
import iommu.console.dto.UnitStatsDTO;

/**
 * The Gogo commands of scope {@code iommu} (DESIGN section 8), as Felix SCR's
 * commands are: each returns a DTO ({@code iommu.api.dto}, or
 * {@code iommu.console.dto} where the API has none), and the shell picks the
 * form: its format's table ({@link Formats}), or its JSON when the command
 * was given {@code --json} ({@link Json}). The console only observes and
 * calls: every platform service is an optional, dynamic reference, and a
 * command whose service is missing fails with one line saying which. Every
 * failure is an exception whose message is one line saying what was wrong and
 * what was expected; the shell or the launcher prints it ({@link Errors}).
 *
 * <p>The command names are {@link CommandList}'s: the component registers
 * itself for Gogo under them when it activates.
 */
@Component(service = IommuCommands.class, immediate = true)
public class IommuCommands {

    /** How long {@code strategy NAME} waits for iommu.core to bind the strategy. */
    static final Duration SWITCH_TIMEOUT = Duration.ofSeconds(10);

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

    private volatile ServiceRegistration<?> gogo;

    @Activate
    void activate(ComponentContext context) {
        this.componentContext = context;
        this.gogo = context.getBundleContext().registerService(Object.class.getName(), this,
                CommandList.serviceProperties());
    }

    @Deactivate
    void deactivate() {
        ServiceRegistration<?> r = gogo;
        gogo = null;
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // gone with the bundle
            }
        }
    }

    private BundleContext bundleContext() {
        ComponentContext cc = componentContext;
        return cc == null ? null : cc.getBundleContext();
    }

    // ================================================================ listings

    @Descriptor("list the IOMMU units: id, vendor, segment, register base, domain ids (total, reserved, used, free) and devices")
    public Object units(
            @Descriptor("print JSON (an array of units) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        UnitListDTO r = new UnitListDTO();
        r.units = List.copyOf(requireAssignment().units());
        return Json.or(json, r);
    }

    @Descriptor("show one unit: its registers and capabilities decoded by name (VT-d: VER, CAP, ECAP) and its domain-id usage")
    public Object unit(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("unit id, e.g. dmar0, or a unique part of one, e.g. 0") String id) {
        DeviceAssignment da = requireAssignment();
        UnitDTO u = findUnit(da.units(), id);
        Set<Integer> guests = new TreeSet<>();
        DomainIdMap map = domainIdMap;
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
        r.decoded = new LinkedHashMap<>(unitService(u.id).map(IommuUnit::describe).orElse(Map.of()));
        return Json.or(json, r);
    }

    @Descriptor("list the PCI devices: address, the unit translating it, its guest (- when unattached), whether firmware reserves memory for it (RMRR/IVMD)")
    public Object devices(
            @Descriptor("print JSON (an array of devices, guest null when unattached) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceListDTO r = new DeviceListDTO();
        r.devices = List.copyOf(requireAssignment().devices());
        return Json.or(json, r);
    }

    @Descriptor("list the guests holding devices, with each device's unit and domain id")
    public Object guests(
            @Descriptor("print JSON (an array of guests with their devices) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        GuestListDTO r = new GuestListDTO();
        r.guests = List.copyOf(requireAssignment().guests());
        return Json.or(json, r);
    }

    @Descriptor("show one guest: its devices and its domain id on each unit")
    public Object guest(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, e.g. 7, or a unique part of one") String id) {
        List<GuestDTO> guests = requireAssignment().guests();
        if (id != null && !id.isBlank() && !id.trim().matches("[0-9]+")) {
            GuestId.parse(id); // says what a guest id looks like
        }
        List<String> ids = guests.stream().map(g -> Integer.toString(g.guest)).toList();
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("no guest holds a device: expected a guest id that 'guests' lists");
        }
        String found = Matching.one("guest", id, ids);
        GuestDTO g = guests.stream().filter(x -> Integer.toString(x.guest).equals(found)).findFirst().orElseThrow();
        return Json.or(json, guestDetail(g));
    }

    // ================================================================ attach, detach

    @Descriptor("attach PCI devices to a guest (all or none); prints the guest's devices with their domain ids")
    public GuestDetailDTO attach(
            @Descriptor("also attach devices for which firmware reserves memory (RMRR/IVMD), which are refused otherwise")
            @Parameter(names = "--allow-reserved-memory", presentValue = "true", absentValue = "false") boolean allowReservedMemory,
            @Descriptor("guest id, a decimal number 1..32751") String guest,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1") String... devices) {
        GuestId id = GuestId.parse(guest);
        List<PciAddress> addresses = parseDevices("attach", devices);
        return guestDetail(requireAssignment().attach(id, addresses, allowReservedMemory));
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
    public Object domains(
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
        UnitDomainsDTO r = new UnitDomainsDTO();
        r.unit = u.id;
        r.domainIds = u.domainIds;
        r.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
        r.domains = new ArrayList<>();
        on.forEach((did, g) -> {
            DomainDTO row = new DomainDTO();
            row.did = did.value();
            row.guest = g.value();
            row.devices = devicesOf.getOrDefault(g.value(), List.of());
            r.domains.add(row);
        });
        return Json.or(json, r);
    }

    @Descriptor("show a device's context entry as its unit holds it, decoded (VT-d: present, TT, AW, SLPTPTR, DID, the raw bits)")
    public Object ctx(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F, e.g. 0000:3b:00.2") String bdf) {
        PciAddress device = PciAddress.parse(bdf);
        DeviceDTO d = findDevice(device);
        ContextEntryDTO r = new ContextEntryDTO();
        r.bdf = device.toString();
        r.unit = d.unit;
        r.guest = d.guest;
        r.context = new LinkedHashMap<>(requireUnitService(d.unit).describeContext(device));
        return Json.or(json, r);
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
    public Object translate(
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
        TranslationDTO r = new TranslationDTO();
        r.bdf = device.toString();
        r.unit = d.unit;
        r.guest = c.map(x -> x.guest().value()).orElse(null);
        r.did = c.map(x -> x.domainId().value()).orElse(null);
        r.iova = t.iova();
        if (t.isFault()) {
            r.fault = new FaultDTO();
            r.fault.reason = t.faultReason();
            r.fault.description = t.fault();
        } else {
            r.hostAddress = t.hostAddress().getAsLong();
        }
        return Json.or(json, r);
    }

    @Descriptor("invalidate everything a guest may have cached, on every unit where it holds a domain id; prints what was issued per unit and granularity")
    public Object flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") String guest) {
        GuestId g = GuestId.parse(guest);
        return Json.or(json, flushed(g, requireFlush().flushGuest(g)));
    }

    @Descriptor("invalidate a range of a guest's I/O pages on every unit where it holds a domain id (page-selective where the unit allows); prints what was issued")
    public Object flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") String guest,
            @Descriptor("first I/O virtual address: decimal or hexadecimal with 0x") String iova,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        GuestId g = GuestId.parse(guest);
        long from = Numbers.parse("IOVA", iova);
        long n = Numbers.pages(pages);
        return Json.or(json, flushed(g, requireFlush().flushPages(g, from, n)));
    }

    private static FlushDTO flushed(GuestId g, FlushReportDTO report) {
        FlushDTO r = new FlushDTO();
        r.guest = g.value();
        r.invalidations = report == null || report.invalidations == null ? List.of() : List.copyOf(report.invalidations);
        return r;
    }

    @Descriptor("per unit: domain ids (total, reserved, used, free) and the invalidations it received by granularity (device, domain, pages, global)")
    public Object stats(
            @Descriptor("print JSON (an array of units, every counter the unit reports under invalidations) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = requireAssignment();
        Map<String, Map<String, Long>> allocations = da.allocationCounts();
        StatsDTO r = new StatsDTO();
        r.units = new ArrayList<>();
        for (UnitDTO u : da.units()) {
            UnitStatsDTO s = new UnitStatsDTO();
            s.unit = u.id;
            s.domainIds = u.domainIds;
            s.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
            s.used = u.usedDomainIds;
            s.free = UnitsFormat.free(u);
            s.allocations = new LinkedHashMap<>(allocations.getOrDefault(u.id, Map.of()));
            s.invalidations = new LinkedHashMap<>();
            unitService(u.id).ifPresent(x -> s.invalidations.putAll(x.invalidationCounts()));
            r.units.add(s);
        }
        return Json.or(json, r);
    }

    // ================================================================ discovery

    @Descriptor("read a platform (ACPI DMAR table, sysfs-shaped directory or platform file) and register its units; prints the units, devices and warnings")
    public Object discover(CommandSession session,
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("path of the DMAR table, sysfs directory or platform file") String path) {
        Path p = Discoveries.resolve(session, path);
        PlatformDiscovery d = discoveryFor(p);
        Set<String> before = presentUnitIds();
        DiscoveryDTO dto;
        try (Progress progress = Progress.start(err.get(), "discovering " + p,
                () -> newUnits(before) + " units registered so far")) {
            dto = d.discover(p);
        }
        DiscoveredDTO r = new DiscoveredDTO();
        r.source = dto.source;
        r.format = dto.format;
        r.vendor = d.vendor();
        r.units = dto.units == null ? List.of() : List.copyOf(dto.units);
        r.devices = dto.devices;
        r.warnings = dto.warnings == null ? List.of() : List.copyOf(dto.warnings);
        return Json.or(json, r);
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
        return Discoveries.recognizing(discoveryServices.get(), p);
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
    public Object strategies(
            @Descriptor("print JSON (an array of strategies) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = assignment;
        Optional<String> bound = da == null ? Optional.empty() : da.strategy();
        List<UnitDescriptor> descriptors = da == null ? List.of() : descriptors(da.units());
        StrategyListDTO r = new StrategyListDTO();
        r.strategies = new ArrayList<>();
        Set<String> boundShown = new LinkedHashSet<>();
        for (StrategyService s : strategyServices.get()) {
            StrategyDTO row = new StrategyDTO();
            row.name = s.name();
            row.bundle = s.bundle();
            row.ranking = s.ranking();
            row.bound = bound.isPresent() && bound.get().equals(s.name()) && boundShown.add(s.name());
            row.capacity = s.service().capacity(descriptors);
            row.description = CoreText.oneLine(s.service().description());
            r.strategies.add(row);
        }
        return Json.or(json, r);
    }

    @Descriptor("plan: how many guests each strategy admits on the platform as it is now, when every guest has N devices"
            + " all under one unit. Per unit, usable = domain ids - reserved and fit = floor(devices / N);"
            + " each strategy says what it admits on these units and how (AllocationStrategy.admits)."
            + " Prints the inputs and the results")
    public Object capacity(
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
        CapacityDTO r = new CapacityDTO();
        r.devicesPerGuest = n;
        r.units = new ArrayList<>();
        for (int i = 0; i < plan.units.size(); i++) {
            CapacityPlan.UnitRow row = plan.units.get(i);
            UnitCapacityDTO u = new UnitCapacityDTO();
            u.unit = row.unit();
            u.domainIds = row.load().unit().domainIdCount();
            u.reserved = units.get(i).reserved == null ? new int[0] : units.get(i).reserved.clone();
            u.usable = row.load().unit().usable();
            u.devices = row.load().devices();
            u.fit = row.fit();
            u.perUnit = row.perUnit();
            r.units.add(u);
        }
        r.strategies = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (StrategyService s : strategyServices.get()) {
            if (seen.add(s.name())) {
                CapacityEstimate e = s.service().admits(plan.loads, n);
                AdmitsDTO a = new AdmitsDTO();
                a.strategy = s.name();
                a.admits = e.admits();
                a.model = CoreText.oneLine(e.model());
                r.strategies.add(a);
            }
        }
        return Json.or(json, r);
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
        throw new ProblemsException("verify: " + problems.size()
                + (problems.size() == 1 ? " disagreement" : " disagreements")
                + " between the map, the strategy's bitmaps and the units' context entries (listed above)", problems);
    }

    @Descriptor("show where state is kept (--state DIR: the journal and the units' table files) and what the last"
            + " recovery found: attachments restored from the journal, and each disagreement between the journal and"
            + " the units' kept tables")
    public Object state(
            @Parameter(names = "--json", absentValue = "false", presentValue = "true")
            @Descriptor("print JSON (one object) instead of text") boolean json) {
        StateDTO s = requireAssignment().state();
        StateDTO r = new StateDTO();
        r.directory = s.directory;
        r.restored = s.restored;
        r.problems = s.problems == null ? List.of() : List.copyOf(s.problems);
        return Json.or(json, r);
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

    /** Tab-completion candidates for the next argument of an {@code iommu} command ({@link Completion}). */
    List<Completion.Candidate> candidates(String function, List<String> typed) {
        return new Completion(this).candidates(function, typed);
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

    private GuestDetailDTO guestDetail(GuestDTO g) {
        GuestDetailDTO r = new GuestDetailDTO();
        r.guest = g.guest;
        r.devices = g.devices == null ? List.of() : List.copyOf(g.devices);
        r.dids = domainIdsOf(g);
        return r;
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
}
