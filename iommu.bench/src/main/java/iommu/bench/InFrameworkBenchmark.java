package iommu.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * Attach + detach through the DeviceAssignment service of a running Felix
 * (context programming, flushes, the strategy and the map included), on the
 * embedded default platform; reported as operations per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class InFrameworkBenchmark {

    EmbeddedPlatform platform;
    final GuestId guest = GuestId.guest(7);
    final List<PciAddress> vf = List.of(PciAddress.parse("0000:18:10.0"));

    @Setup(Level.Trial)
    public void start() throws Exception {
        platform = new EmbeddedPlatform();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        platform.close();
    }

    @Benchmark
    public void attachDetach() {
        platform.assignment.attach(guest, vf);
        platform.assignment.detach(vf);
    }
}
