package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.PciAddress;

/**
 * DESIGN invariant 6 with a real crash: a child JVM works on a state
 * directory and is killed with SIGKILL at random points; a new core on the
 * same directory must hold every acknowledged attach and detach, and at most
 * the one operation that was under way when the process died.
 */
class CrashTest {

    @TempDir
    Path state;

    static Map<PciAddress, Integer> apply(Map<PciAddress, Integer> before, String op) {
        Map<PciAddress, Integer> after = new TreeMap<>(before);
        String[] f = op.split(" ");
        if (f[0].equals("attach")) {
            after.put(PciAddress.parse(f[1]), Integer.parseInt(f[2]));
        } else {
            after.remove(PciAddress.parse(f[1]));
        }
        return after;
    }

    Map<PciAddress, Integer> recovered() {
        Fixture f = new Fixture();
        AssignmentManager core = f.manager(Fixture.config("per-unit", state.toString()), CrashWorkload.units(f),
                new PerUnitStrategy());
        assertThat(core.audit()).isEmpty();
        Map<PciAddress, Integer> view = new TreeMap<>();
        core.devices().stream().filter(d -> d.guest != null).forEach(d -> view.put(PciAddress.parse(d.bdf), d.guest));
        core.deactivate();
        return view;
    }

    @Test
    void aKilledProcessLosesNoAcknowledgedOperation() throws Exception {
        Random random = new Random();
        long seed = random.nextLong();
        Map<PciAddress, Integer> expected = new TreeMap<>();
        for (int round = 0; round < 4; round++) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    CrashWorkload.class.getName(), state.toString(), Long.toString(seed + round))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            int killAfter = 20 + random.nextInt(200);
            String inFlight = null;
            int acknowledged = 0;
            List<String> lines = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    if (line.startsWith("begin ")) {
                        inFlight = line.substring(6);
                    } else if (line.equals("ok")) {
                        expected = apply(expected, inFlight);
                        inFlight = null;
                        if (++acknowledged == killAfter) {
                            // SIGKILL: no shutdown hook, no flush; read on until the pipe closes
                            new ProcessBuilder("kill", "-KILL", Long.toString(child.pid())).start().waitFor();
                        }
                    } else if (line.startsWith("refused ")) {
                        inFlight = null;
                    }
                }
            }
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(acknowledged).as("round %d: the child worked (%s)", round, lines.isEmpty() ? "" : lines.get(0))
                    .isGreaterThanOrEqualTo(killAfter);
            Map<PciAddress, Integer> actual = recovered();
            if (!actual.equals(expected) && inFlight != null) {
                // the operation under way may have been made durable just before the kill
                expected = apply(expected, inFlight);
            }
            assertThat(actual).as("round %d, seed %d, killed after %d acknowledgements", round, seed, killAfter)
                    .isEqualTo(expected);
        }
    }
}
