package iommu.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Issue 9's swap figure in a running Felix: a platform file of 16 VT-d units
 * of 65,536 ids (3 SR-IOV PFs of 255 VFs behind each unit's root port) is
 * loaded through the vt-d PlatformDiscovery service, 10,000 guests get one VF
 * each under per-unit, and a probe thread attaches and detaches one more VF
 * while the core's configuration swaps to global, which renumbers nearly every
 * guest. Prints the swap's duration and the probe's longest pause.
 *
 * <p>Run: {@code java -cp iommu.bench/target/benchmarks.jar iommu.bench.InFrameworkSwapPause [guests] [rounds]}
 */
public final class InFrameworkSwapPause {

    static final int UNITS = 16;

    /** The platform file: unit u's root port 00:(u+1).0 covers buses 4u+1..4u+3, each with one PF of 255 VFs. */
    static Path platformFile() throws Exception {
        StringBuilder f = new StringBuilder("iommu-platform 1\n");
        StringBuilder topology = new StringBuilder();
        for (int u = 0; u < UNITS; u++) {
            int first = 4 * u + 1;
            int last = 4 * u + 3;
            f.append(String.format("unit dmar%d segment=0000 base=0x%x cap=8d2078c106f0466 ecap=f020df%s%n", u,
                    0xc0000000L + 0x1000L * u, u == UNITS - 1 ? " include-pci-all" : ""));
            f.append(String.format("    scope bridge 0000:00:%02x.0 %02x-%02x%n", u + 1, first, last));
            topology.append(String.format("bridge 0000:00:%02x.0 %02x-%02x%n", u + 1, first, last));
            for (int bus = first; bus <= last; bus++) {
                topology.append(String.format("sriov 0000:%02x:00.0 totalvfs=255 numvfs=255 offset=1 stride=1%n", bus));
            }
        }
        Path file = Files.createTempFile("iommu-bench-platform", ".txt");
        Files.writeString(file, f.append(topology).toString());
        return file;
    }

    public static void main(String[] args) throws Exception {
        int guests = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (EmbeddedPlatform p = new EmbeddedPlatform()) {
            p.vtdDiscovery().replacePlatform(platformFile());
            Map<String, List<PciAddress>> byUnit = new TreeMap<>();
            p.assignment.devices().forEach(d -> byUnit.computeIfAbsent(d.unit, u -> new ArrayList<>()).add(PciAddress.parse(d.bdf)));
            List<List<PciAddress>> lists = new ArrayList<>(byUnit.values());
            for (int round = 0; round < rounds; round++) {
                for (int g = 1; g <= guests; g++) {
                    List<PciAddress> unit = lists.get(g % lists.size());
                    p.assignment.attach(GuestId.guest(g), List.of(unit.get(1 + g / lists.size())));
                }
                PciAddress probeDevice = lists.get(0).get(lists.get(0).size() - 1);
                List<Long> pauses = Collections.synchronizedList(new ArrayList<>());
                AtomicBoolean stop = new AtomicBoolean();
                Thread probe = new Thread(() -> {
                    GuestId probeGuest = GuestId.guest(GuestId.MAX);
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        p.assignment.attach(probeGuest, List.of(probeDevice));
                        p.assignment.detach(List.of(probeDevice));
                        pauses.add(System.nanoTime() - t0);
                    }
                }, "probe");
                probe.start();
                Thread.sleep(200);
                long t0 = System.nanoTime();
                p.swapTo("global");
                long swap = System.nanoTime() - t0;
                Thread.sleep(200);
                stop.set(true);
                probe.join();
                List<Long> sorted = new ArrayList<>(pauses);
                Collections.sort(sorted);
                System.out.printf("round %d: swap of %d guests on %d units took %.1f ms; probe attach+detach: median %.3f ms,"
                        + " longest %.1f ms over %d calls%n", round, guests, lists.size(), swap / 1e6,
                        sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() - 1) / 1e6, sorted.size());
                // back to the start: detach everyone, per-unit again
                List<PciAddress> attached = p.assignment.devices().stream().filter(d -> d.guest != null)
                        .map(d -> PciAddress.parse(d.bdf)).toList();
                p.assignment.detach(attached);
                p.swapTo("per-unit");
            }
        }
        System.exit(0);
    }
}
