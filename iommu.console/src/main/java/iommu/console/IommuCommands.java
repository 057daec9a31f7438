package iommu.console;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.BundleContext;
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
import iommu.api.DomainIdMap;
import iommu.api.FlushService;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.PlatformDiscovery;
import iommu.console.dto.DetachedDTO;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.GuestDetailDTO;

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
    Supplier<PrintStream> err = Progress::stderr;

    private volatile ServiceRegistration<?> gogo;

    // The commands by topic: each builds its results from the services above.
    private final Inspection inspection = new Inspection(this);
    private final GuestIo guestIo = new GuestIo(this);
    private final Planning planning = new Planning(this);
    private final Checks checks = new Checks(this);
    private final PlatformChanges platformChanges = new PlatformChanges(this);

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

    BundleContext bundleContext() {
        ComponentContext cc = componentContext;
        return cc == null ? null : cc.getBundleContext();
    }

    // ================================================================ listings

    @Descriptor("list the IOMMU units: id, vendor, segment, register base, domain ids (total, reserved, used, free) and devices")
    public Object units(
            @Descriptor("print JSON (an array of units) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, inspection.units());
    }

    @Descriptor("show one unit: its registers and capabilities decoded by name (VT-d: VER, CAP, ECAP) and its domain-id usage")
    public Object unit(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("unit id, e.g. dmar0, or a unique part of one, e.g. 0") String id) {
        return Json.or(json, inspection.unit(id));
    }

    @Descriptor("list the PCI devices: address, the unit translating it, its guest (- when unattached), whether firmware reserves memory for it (RMRR/IVMD)")
    public Object devices(
            @Descriptor("print JSON (an array of devices, guest null when unattached) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, inspection.devices());
    }

    @Descriptor("list the guests holding devices, with each device's unit and domain id")
    public Object guests(
            @Descriptor("print JSON (an array of guests with their devices) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, inspection.guests());
    }

    @Descriptor("show one guest: its devices and its domain id on each unit")
    public Object guest(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, e.g. 7, or a unique part of one") String id) {
        return Json.or(json, inspection.guest(id));
    }

    // ================================================================ attach, detach

    @Descriptor("attach PCI devices to a guest (all or none); a device's IOMMU group is attached whole: --group attaches the"
            + " group of the one device given; prints the guest's devices with their domain ids")
    public GuestDetailDTO attach(
            @Descriptor("also attach devices for which firmware reserves memory (RMRR/IVMD), which are refused otherwise; that memory is identity-mapped in the guest while it holds them")
            @Parameter(names = "--allow-reserved-memory", presentValue = "true", absentValue = "false") boolean allowReservedMemory,
            @Descriptor("attach every device of the IOMMU group of the one device given")
            @Parameter(names = "--group", presentValue = "true", absentValue = "false") boolean group,
            @Descriptor("guest id, a decimal number 1..32751") GuestArgument guest,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1 (exactly one with --group)") DeviceArgument... devices) {
        return guestIo.attach(allowReservedMemory, group, guest, devices);
    }

    @Descriptor("detach PCI devices from their guests (all or none); a device's IOMMU group is detached whole: --group detaches"
            + " the group of the one device given; prints what was detached")
    public DetachedDTO detach(
            @Descriptor("detach every device of the IOMMU group of the one device given")
            @Parameter(names = "--group", presentValue = "true", absentValue = "false") boolean group,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1 (exactly one with --group)") DeviceArgument... devices) {
        return guestIo.detach(group, devices);
    }

    @Descriptor("give quarantined PCI devices back to the host domain (all or none, whole IOMMU groups: --group releases"
            + " the group of the one device given); prints them as devices lists them")
    public DeviceListDTO release(
            @Descriptor("release every device of the IOMMU group of the one device given")
            @Parameter(names = "--group", presentValue = "true", absentValue = "false") boolean group,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1 (exactly one with --group)") DeviceArgument... devices) {
        return guestIo.release(group, devices);
    }

    // ================================================================ groups

    @Descriptor("list the IOMMU groups: number, unit, the requester id the unit sees, the guest owning it (- when the host does) and its devices")
    public Object groups(
            @Descriptor("print JSON (an array of groups, guest null when host-owned) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, inspection.groups());
    }

    @Descriptor("show one IOMMU group: its unit, requester id, owner and devices")
    public Object group(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("group number, e.g. 3, or the PCI address of one of its devices, SSSS:BB:DD.F") String id) {
        return Json.or(json, inspection.group(id));
    }

    // ================================================================ one unit's tables

    @Descriptor("list a unit's domain ids in use: DID, the guest holding it and its devices there")
    public Object domains(
            @Descriptor("print JSON (one object with a domains array) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("unit id, e.g. dmar0, or a unique part of one") String unit) {
        return Json.or(json, inspection.domains(unit));
    }

    @Descriptor("show a device's context entry as its unit holds it, decoded (VT-d: present, TT, AW, SLPTPTR, DID, the raw bits)")
    public Object ctx(
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F, e.g. 0000:3b:00.2") DeviceArgument bdf) {
        return Json.or(json, inspection.ctx(bdf));
    }

    @Descriptor("show a device's reserved I/O virtual address ranges, as Linux's reserved_regions lists them: the"
            + " interrupt window 0xfee00000-0xfeefffff (DMA there is an interrupt request) and its firmware memory"
            + " (RMRR, IVMD); map refuses a guest page there")
    public Object regions(
            @Descriptor("print JSON (one object with a regions array) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F, e.g. 0000:00:14.0") DeviceArgument bdf) {
        return Json.or(json, inspection.regions(bdf));
    }

    // ================================================================ guest I/O pages

    @Descriptor("map 4 KiB pages of a guest's I/O space (IOVA to host-physical address) on every unit where it holds a domain id, now and later")
    public String map(
            @Descriptor("guest id, 1..32751") GuestArgument guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("first host-physical address, 4 KiB aligned: decimal or hexadecimal with 0x") String hpa) {
        return guestIo.map(guest, iova, hpa);
    }

    @Descriptor("map PAGES 4 KiB pages of a guest's I/O space (IOVA to host-physical address) on every unit where it holds a domain id, now and later")
    public String map(
            @Descriptor("guest id, 1..32751") GuestArgument guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("first host-physical address, 4 KiB aligned: decimal or hexadecimal with 0x") String hpa,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        return guestIo.map(guest, iova, hpa, pages);
    }

    @Descriptor("unmap one 4 KiB page of a guest's I/O space and wait until the units invalidated it")
    public String unmap(
            @Descriptor("guest id, 1..32751") GuestArgument guest,
            @Descriptor("I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova) {
        return guestIo.unmap(guest, iova);
    }

    @Descriptor("unmap PAGES 4 KiB pages of a guest's I/O space and wait until the units invalidated them (pages not mapped are skipped)")
    public String unmap(
            @Descriptor("guest id, 1..32751") GuestArgument guest,
            @Descriptor("first I/O virtual address, 4 KiB aligned: decimal or hexadecimal with 0x") String iova,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        return guestIo.unmap(guest, iova, pages);
    }

    @Descriptor("simulate a device's DMA to an I/O virtual address: prints the host-physical address, or the fault and its reason (a fault is a result, not a failure)")
    public Object translate(
            @Descriptor("print JSON (one object; hostAddress null and fault set on a fault) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("PCI address of the device, SSSS:BB:DD.F") DeviceArgument bdf,
            @Descriptor("I/O virtual address: decimal or hexadecimal with 0x") String iova) {
        return Json.or(json, guestIo.translate(bdf, iova));
    }

    @Descriptor("invalidate everything a guest may have cached, on every unit where it holds a domain id; prints what was issued per unit and granularity")
    public Object flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") GuestArgument guest) {
        return Json.or(json, guestIo.flush(guest));
    }

    @Descriptor("invalidate a range of a guest's I/O pages on every unit where it holds a domain id (page-selective where the unit allows); prints what was issued")
    public Object flush(
            @Descriptor("print JSON (the invalidations issued) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("guest id, 1..32751") GuestArgument guest,
            @Descriptor("first I/O virtual address: decimal or hexadecimal with 0x") String iova,
            @Descriptor("number of 4 KiB pages, 1 or more") String pages) {
        return Json.or(json, guestIo.flush(guest, iova, pages));
    }

    @Descriptor("per unit: domain ids (total, reserved, used, free) and the invalidations it received by granularity (device, domain, pages, global)")
    public Object stats(
            @Descriptor("print JSON (an array of units, every counter the unit reports under invalidations) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, inspection.stats());
    }

    // ================================================================ discovery

    @Descriptor("read a platform (ACPI DMAR table, sysfs-shaped directory or platform file) and register its units; prints the units, devices and warnings")
    public Object discover(CommandSession session,
            @Descriptor("print JSON (one object) instead of text")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("path of the DMAR table, sysfs directory or platform file") String path) {
        return Json.or(json, platformChanges.discover(Discoveries.resolve(session, path)));
    }

    @Descriptor("unregister a unit that has no attached device (its vendor's discovery forgets it)")
    public String forget(@Descriptor("unit id, e.g. dmar5, or a unique part of one") String unit) {
        return platformChanges.forget(unit);
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
        return planning.switchTo(name);
    }

    @Descriptor("list the allocation strategy services: name, bundle, service ranking, whether bound, the capacity it would give on the units present")
    public Object strategies(
            @Descriptor("print JSON (an array of strategies) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        return Json.or(json, planning.strategies());
    }

    @Descriptor("plan: how many guests each strategy admits on the platform as it is now, when every guest has N IOMMU"
            + " groups (a group is attached whole; a device alone in its group is one) all under one unit. Per unit,"
            + " usable = domain ids - reserved and fit = floor(groups / N);"
            + " each strategy says what it admits on these units and how (AllocationStrategy.admits)."
            + " Prints the inputs and the results")
    public Object capacity(
            @Descriptor("print JSON (inputs per unit and the result per strategy) instead of tables")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json,
            @Descriptor("IOMMU groups each guest gets, all under one unit (default 1, e.g. one SR-IOV VF, alone in its group, per guest)")
            @Parameter(names = "--devices-per-guest", absentValue = "1") String devicesPerGuest) {
        return Json.or(json, planning.capacity(devicesPerGuest));
    }

    // ================================================================ checks and pictures

    @Descriptor("audit that the domain-id map, the strategy's bitmaps and every unit's context entries agree; prints each disagreement and fails when there is one")
    public String verify() {
        return checks.verify();
    }

    @Descriptor("show where state is kept (--state DIR: the journal and the units' table files) and what the last"
            + " recovery found: attachments restored from the journal, and each disagreement between the journal and"
            + " the units' kept tables")
    public Object state(
            @Parameter(names = "--json", absentValue = "false", presentValue = "true")
            @Descriptor("print JSON (one object) instead of text") boolean json) {
        return Json.or(json, inspection.state());
    }

    @Descriptor("a picture of every unit's domain ids: # used, r reserved, . free, 64 cells a row")
    public String occupancy() {
        return checks.occupancy();
    }

    @Descriptor("a picture of one unit's domain ids: # used, r reserved, . free, 64 cells a row (large units fold runs of ids into a cell)")
    public String occupancy(@Descriptor("unit id, e.g. dmar0, or a unique part of one") String unit) {
        return checks.occupancy(unit);
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
        return Registry.strategies(componentContext, strategies);
    }

    private List<PlatformDiscovery> registeredDiscoveries() {
        return Registry.discoveries(componentContext, discoveries);
    }

    DeviceDTO findDevice(PciAddress device) {
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

    IommuUnit requireUnitService(String id) {
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

    DomainIdMap requireMap() {
        DomainIdMap m = domainIdMap;
        if (m == null) {
            throw new IommuException("the domain-id map service is not available: expected bundle iommu.core to be active");
        }
        return m;
    }

    FlushService requireFlush() {
        FlushService f = flushService;
        if (f == null) {
            throw new IommuException("the flush service is not available: expected bundle iommu.flush to be active");
        }
        return f;
    }

}
