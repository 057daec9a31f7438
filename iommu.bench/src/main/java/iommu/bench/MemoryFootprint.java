package iommu.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Retained heap of the platform's state for a large platform: by default 64
 * units of 65,536 domain ids and 100,000 attached devices, spread over the
 * 32,750 guest ids as evenly as they go (device i is on unit i mod 64 and
 * belongs to guest 1 + i mod 32,750: about 3 devices per guest, each on
 * another unit, about 100,000 domain ids in use).
 *
 * <p>Not a JMH benchmark: it builds the state through the core's
 * {@code DeviceAssignment.attach}, forces full collections and reads the used
 * heap from the {@link MemoryMXBean}, several times, printing each run and the
 * median. Run it with {@code -Xmx512m} to check the target also holds as a
 * hard limit.
 *
 * <pre>java -Xmx512m -cp iommu.bench/target/benchmarks.jar iommu.bench.MemoryFootprint [units] [dids] [devices] [runs]</pre>
 */
public final class MemoryFootprint {

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private MemoryFootprint() {
    }

    public static void main(String[] args) {
        int units = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int dids = args.length > 1 ? Integer.parseInt(args[1]) : 65_536;
        int devices = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int guests = GuestId.MAX - 1;
        int perUnit = (devices + units - 1) / units;

        System.out.printf(Locale.ROOT, "%d units x %d domain ids, %d devices attached (%d per unit) to up to %d guests;"
                + " max heap %d MB%n", units, dids, devices, perUnit, guests, Runtime.getRuntime().maxMemory() >> 20);
        long[] attachedBytes = new long[runs];
        long[] totalBytes = new long[runs];
        for (int run = 0; run < runs; run++) {
            long before = usedAfterGc();
            Platform platform = new Platform(units, dids, perUnit);
            long builtEmpty = usedAfterGc() - before;

            // one attach per guest with all its devices, as a guest would be started
            List<List<PciAddress>> byGuest = new ArrayList<>(guests);
            for (int g = 0; g < guests; g++) {
                byGuest.add(new ArrayList<>(4));
            }
            for (int i = 0; i < devices; i++) {
                byGuest.get(i % guests).add(platform.units.get(i % units).device(i / units));
            }
            long start = System.nanoTime();
            for (int g = 0; g < guests; g++) {
                if (!byGuest.get(g).isEmpty()) {
                    platform.attach(g + 1, byGuest.get(g));
                }
            }
            long attachNanos = System.nanoTime() - start;
            byGuest = null;
            long after = usedAfterGc();
            long total = after - before;
            long held = 0;
            for (FakeUnit u : platform.units) {
                held += CoreRig.usedOn(platform.table, u.id());
            }
            if (held != devices) {
                throw new IllegalStateException(held + " domain ids in use after attaching, expected " + devices);
            }
            attachedBytes[run] = total - builtEmpty;
            totalBytes[run] = total;
            System.out.printf(Locale.ROOT, "run %d: %,d domain ids in use; retained %.1f MB in all, %.1f MB of it before"
                    + " any attach (the fake units' device lists and scope sets, the strategy's bitmaps), %.1f MB added by attaching (core, map, allocator,"
                    + " flush, and the units' context entries);"
                    + " attaching took %.2f s%n", run + 1, held, mb(total), mb(builtEmpty), mb(total - builtEmpty),
                    attachNanos / 1e9);
            platform = null;
        }
        System.out.printf(Locale.ROOT, "median retained: %.1f MB in all (min %.1f, max %.1f), added by attaching"
                + " %.1f MB (min %.1f, max %.1f)%n", mb(median(totalBytes)), mb(min(totalBytes)), mb(max(totalBytes)),
                mb(median(attachedBytes)), mb(min(attachedBytes)), mb(max(attachedBytes)));
    }

    private static long usedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            used = Math.min(used, MEMORY.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static double mb(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static long min(long[] values) {
        return Arrays.stream(values).min().orElse(0);
    }

    private static long max(long[] values) {
        return Arrays.stream(values).max().orElse(0);
    }
}
