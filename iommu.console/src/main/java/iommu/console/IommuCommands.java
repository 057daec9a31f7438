package iommu.console;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import iommu.api.DeviceAssignment;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.spi.AllocationStrategy;

/**
 * The Gogo commands of scope {@code iommu}. The console only observes and
 * calls: every platform service is an optional, dynamic reference, and a
 * command whose service is missing fails with one line saying which.
 *
 * <p>Every failure is an exception whose message is one line saying what was
 * wrong and what was expected; the shell or the launcher prints it.
 */
@Component(service = IommuCommands.class, property = {
        "osgi.command.scope=iommu",
        "osgi.command.function=units",
        "osgi.command.function=devices",
        "osgi.command.function=attach",
        "osgi.command.function=detach",
        "osgi.command.function=guests",
        "osgi.command.function=strategy"
})
public class IommuCommands {

    /** How long {@code strategy NAME} waits for iommu.core to bind the strategy. */
    static final Duration SWITCH_TIMEOUT = Duration.ofSeconds(10);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DeviceAssignment assignment;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<ServiceReference<AllocationStrategy>> strategies = new ArrayList<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ConfigurationAdmin configAdmin;

    // ---------------------------------------------------------------- listings

    @Descriptor("list the IOMMU units: id, vendor, segment, register base, domain ids (total, reserved, used) and devices")
    public String units(
            @Descriptor("print JSON (an array of units) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = requireAssignment();
        return json ? Formats.unitsJson(da.units()) : Formats.unitsTable(da.units());
    }

    @Descriptor("list the PCI devices: address, the unit translating it, its guest (- when unattached)")
    public String devices(
            @Descriptor("print JSON (an array of devices, guest null when unattached) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = requireAssignment();
        return json ? Formats.devicesJson(da.devices()) : Formats.devicesTable(da.devices());
    }

    @Descriptor("list the guests holding devices, with each device's unit and domain id")
    public String guests(
            @Descriptor("print JSON (an array of guests with their devices) instead of a table")
            @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean json) {
        DeviceAssignment da = requireAssignment();
        return json ? Formats.guestsJson(da.guests()) : Formats.guestsTable(da.guests());
    }

    // ---------------------------------------------------------------- attach, detach

    @Descriptor("attach PCI devices to a guest (all or none); prints the guest's devices with their domain ids")
    public String attach(
            @Descriptor("guest id, a decimal number 1..32751") String guest,
            @Descriptor("PCI addresses of the devices, SSSS:BB:DD.F in hexadecimal, e.g. 0000:3b:00.1") String... devices) {
        GuestId id = GuestId.parse(guest);
        List<PciAddress> addresses = parseDevices("attach", devices);
        DeviceAssignment da = requireAssignment();
        GuestDTO result = da.attach(id, addresses);
        return Formats.guestTable(result);
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
        List<PciAddress> out = new ArrayList<>(devices.length);
        for (String d : devices) {
            out.add(PciAddress.parse(d));
        }
        return out;
    }

    // ---------------------------------------------------------------- strategy

    @Descriptor("print the bound domain-id allocation strategy")
    public String strategy() {
        return strategySwitch().current();
    }

    @Descriptor("select the domain-id allocation strategy (guests keep their devices); waits until iommu.core bound it")
    public String strategy(
            @Descriptor("strategy name, one of the registered AllocationStrategy services, e.g. global or per-unit") String name) {
        return strategySwitch().switchTo(name);
    }

    StrategySwitch strategySwitch() {
        return new StrategySwitch(() -> assignment, this::strategyNames, () -> configAdmin, SWITCH_TIMEOUT);
    }

    Collection<String> strategyNames() {
        List<String> names = new ArrayList<>();
        for (ServiceReference<AllocationStrategy> ref : strategies) {
            Object name = ref.getProperty(AllocationStrategy.NAME);
            if (name != null) {
                names.add(String.valueOf(name));
            }
        }
        return names;
    }

    private DeviceAssignment requireAssignment() {
        DeviceAssignment da = assignment;
        if (da == null) {
            throw new IommuException("the device assignment service is not available: expected bundle iommu.core to be active");
        }
        return da;
    }
}
