package iommu.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.FlushReportDTO;
import iommu.api.dto.GuestDTO;

/**
 * End to end, outside a framework: attach and detach through the core's
 * {@code DeviceAssignment} (unit resolution, the strategy's allocator, the
 * map, context programming, the real flush service's invalidations and their
 * completion), on {@code units} fake units of {@code dids} domain ids each,
 * with half of each unit's ids already held (as many guests as guest ids
 * allow, each with one device on every unit).
 *
 * <p>{@code state=memory} keeps state in memory only (the launcher's default);
 * {@code state=journal} gives the core a state directory under
 * {@code java.io.tmpdir}, so that each attach and detach forces a journal
 * record to disk before it answers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
// Tiered compilation of the attach and flush paths takes 5 to 15 s on 2 busy cores; the
// setup's warm calls and a long warmup both help the 256-id case, whose setup is small.
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttachDetachBenchmark {

    static final int WARM_CALLS = 20_000;

    @Param({"256", "65536"})
    public int dids;

    @Param({"16"})
    public int units;

    @Param({"memory", "journal"})
    public String state;

    private Platform platform;
    private Path stateDirectory;
    private GuestId newcomer;
    private List<PciAddress> newcomerDevice;
    private GuestId resident;

    @Setup(Level.Trial)
    public void setUp() {
        int guests = Math.min((dids - 1) / 2, GuestId.MAX - 1);
        platform = new Platform(units, dids, guests + 1);
        for (int g = 1; g <= guests; g++) {
            List<PciAddress> devices = new ArrayList<>(units);
            for (FakeUnit unit : platform.units) {
                devices.add(unit.device(g - 1));
            }
            platform.attach(g, devices);
        }
        newcomer = GuestId.guest(GuestId.MAX);
        newcomerDevice = List.of(platform.units.get(units / 2).device(guests));
        resident = GuestId.guest(Math.max(1, guests / 2));
        GuestDTO dto = platform.assignment.attach(newcomer, newcomerDevice);
        if (dto.devices.size() != 1 || dto.devices.get(0).did != guests + 1) {
            throw new IllegalStateException("attach gave " + dto.devices.get(0).did + ", expected " + (guests + 1));
        }
        platform.assignment.detach(newcomerDevice);
        // The same head start for every size: the 65,536-id setup alone attaches 32,750
        // guests, which compiles the attach path before JMH's warmup begins.
        for (int i = 0; i < WARM_CALLS; i++) {
            attachDetach();
            flushGuest();
        }
        switch (state) {
            case "memory" -> { }
            case "journal" -> {
                // after the bulk attaches and the warm calls, which would otherwise each wait for the disk
                try {
                    stateDirectory = Files.createTempDirectory("iommu-bench-state");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                CoreRig.useStateDirectory(platform.assignment, "per-unit", stateDirectory.toString());
            }
            default -> throw new IllegalArgumentException("state " + state + ": expected memory or journal");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        CoreRig.deactivate(platform.assignment);
        if (stateDirectory != null) {
            try (Stream<Path> files = Files.walk(stateDirectory)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /**
     * A guest holding no id on the unit gets one device attached (allocate,
     * context entry, caching-mode flush) and detached again (clear, device and
     * domain invalidation, release).
     */
    @Benchmark
    public GuestDTO attachDetach() {
        GuestDTO dto = platform.assignment.attach(newcomer, newcomerDevice);
        platform.assignment.detach(newcomerDevice);
        return dto;
    }

    /** The flush service invalidates everything a guest with a device on every unit may cache. */
    @Benchmark
    public FlushReportDTO flushGuest() {
        return platform.flush.flushGuest(resident);
    }
}
