package iommu.core;

import java.io.PrintStream;
import java.util.List;
import java.util.Random;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;

/**
 * The child process of {@link CrashTest}: a core on a state directory that
 * attaches and detaches at random forever, saying "begin OP" before each
 * operation and "ok" once it returned (acknowledged). The parent kills it
 * with SIGKILL at a random moment.
 */
public final class CrashWorkload {

    static final int UNITS = 3;
    static final int DEVICES = 12;
    static final int GUESTS = 20;

    static List<TestUnit> units(Fixture f) {
        return List.of(new TestUnit("dmar0", 256, f.events).withDevices(0x10, DEVICES),
                new TestUnit("dmar1", 256, f.events).withDevices(0x20, DEVICES),
                new TestUnit("dmar2", 256, f.events).withDevices(0x30, DEVICES));
    }

    public static void main(String[] args) {
        String state = args[0];
        Random random = new Random(Long.parseLong(args[1]));
        Fixture f = new Fixture();
        List<TestUnit> units = units(f);
        AssignmentManager core = f.manager(Fixture.config("per-unit", state), units, new PerUnitStrategy());
        List<PciAddress> devices = units.stream().flatMap(u -> u.deviceList().stream()).toList();
        PrintStream out = System.out;
        out.println("ready " + core.state().restored);
        out.flush();
        while (true) {
            PciAddress device = devices.get(random.nextInt(devices.size()));
            boolean attached = core.devices().stream().anyMatch(d -> d.bdf.equals(device.toString()) && d.guest != null);
            int guest = 1 + random.nextInt(GUESTS);
            String op = attached ? "detach " + device : "attach " + device + " " + guest;
            out.println("begin " + op);
            out.flush();
            try {
                if (attached) {
                    core.detach(List.of(device));
                } else {
                    core.attach(GuestId.guest(guest), List.of(device));
                }
                out.println("ok");
            } catch (IommuException e) {
                out.println("refused " + e.getMessage());
            }
            out.flush();
        }
    }
}
