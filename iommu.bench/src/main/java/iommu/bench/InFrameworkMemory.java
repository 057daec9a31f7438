package iommu.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;

/**
 * Issue 9's memory figure in a running Felix: 64 VT-d units of 65,536 ids on
 * two segments with 114,688 devices (each unit's root port covers 7 buses of
 * one SR-IOV PF with 255 VFs), loaded through the vt-d discovery service, and
 * every 10th device attached to its own guest, 10,000 guests in all. Prints
 * the heap in use after a full GC before and after. Run with the heap the
 * target allows: {@code java -Xmx512m -cp iommu.bench/target/benchmarks.jar iommu.bench.InFrameworkMemory}
 */
public final class InFrameworkMemory {

    static Path platformFile() throws Exception {
        StringBuilder units = new StringBuilder("iommu-platform 1\n");
        StringBuilder topology = new StringBuilder();
        for (int u = 0; u < 64; u++) {
            int segment = u / 32;
            int local = u % 32;
            int first = 7 * local + 1;
            int last = first + 6;
            String port = String.format("%04x:00:%02x.%x", segment, 1 + local / 8, local % 8);
            units.append(String.format("unit dmar%d segment=%04x base=0x%x cap=8d2078c106f0466 ecap=f020df%n", u, segment,
                    0xc0000000L + 0x1000L * u));
            units.append(String.format("    scope bridge %s %02x-%02x%n", port, first, last));
            topology.append(String.format("bridge %s %02x-%02x%n", port, first, last));
            for (int bus = first; bus <= last; bus++) {
                topology.append(String.format("sriov %04x:%02x:00.0 totalvfs=255 numvfs=255 offset=1 stride=1%n",
                        segment, bus));
            }
        }
        Path file = Files.createTempFile("iommu-bench-64-units", ".txt");
        Files.writeString(file, units.append(topology).toString());
        return file;
    }

    static long usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    public static void main(String[] args) throws Exception {
        try (EmbeddedPlatform p = new EmbeddedPlatform()) {
            long before = usedAfterGc();
            p.vtdDiscovery().replacePlatform(platformFile());
            List<DeviceDTO> devices = p.assignment.devices();
            long loaded = usedAfterGc();
            int guests = 0;
            for (int i = 0; i < devices.size() && guests < 10_000; i += 10) {
                p.assignment.attach(GuestId.guest(++guests), List.of(PciAddress.parse(devices.get(i).bdf)));
            }
            long attached = usedAfterGc();
            System.out.printf("units %d, devices %d, max heap %d MB%n", p.assignment.units().size(), devices.size(),
                    Runtime.getRuntime().maxMemory() >> 20);
            System.out.printf("heap after GC: framework and default platform %.1f MB; with the 64-unit platform %.1f MB;"
                    + " with %d guests attached %.1f MB%n", before / 1e6, loaded / 1e6, guests, attached / 1e6);
        }
        System.exit(0);
    }
}
