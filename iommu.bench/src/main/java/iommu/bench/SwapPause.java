package iommu.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import iommu.alloc.global.GlobalStrategy;
import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Issue 9's swap figure: how long an attach waits while a swap from per-unit
 * to global renumbers 10,000 guests on 16 units. A probe thread attaches and
 * detaches one device in a loop and records every call's latency; the main
 * thread swaps. Prints the swap's duration and the probe's longest pause.
 *
 * <p>Run: {@code java -cp iommu.bench/target/benchmarks.jar iommu.bench.SwapPause [guests] [rounds]}
 */
public final class SwapPause {

    public static void main(String[] args) throws Exception {
        int guests = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        for (int round = 0; round < rounds; round++) {
            measure(guests, round);
        }
    }

    static void measure(int guests, int round) throws Exception {
        int units = 16;
        Platform p = new Platform(units, 65_536, guests / units + 64);
        // one device per guest, guests spread over the units: per-unit numbers them 1, 2, ...
        // on every unit, so a swap to global must renumber nearly all of them
        for (int g = 1; g <= guests; g++) {
            FakeUnit unit = p.units.get(g % units);
            p.attach(g, List.of(unit.devices().get(g / units)));
        }
        GlobalStrategy global = new GlobalStrategy();
        CoreRig.bindStrategy(p.assignment, global, 200L);

        PciAddress probeDevice = p.units.get(0).devices().get(guests / units + 10);
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
        CoreRig.useStateDirectory(p.assignment, "global", "");
        long swap = System.nanoTime() - t0;
        Thread.sleep(200);
        stop.set(true);
        probe.join();
        if (!p.assignment.strategy().orElse("").equals("global")) {
            throw new IllegalStateException("swap refused: " + p.assignment.strategyProblem().orElse("?"));
        }
        List<Long> sorted = new ArrayList<>(pauses);
        Collections.sort(sorted);
        System.out.printf("round %d: swap of %d guests on %d units took %.1f ms; probe attach+detach: median %.3f ms,"
                + " longest %.1f ms over %d calls%n", round, guests, units, swap / 1e6,
                sorted.get(sorted.size() / 2) / 1e6, sorted.get(sorted.size() - 1) / 1e6, sorted.size());
    }
}
