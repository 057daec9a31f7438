package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/**
 * Issue 16: two {@code java -jar iommu.jar --state DIR} started at once on
 * one directory, each attaching its own guest. Every round exactly one of
 * them runs: the other exits 1 with one line naming the directory and the
 * holder's pid, having acknowledged nothing, while the first is still alive
 * (it keeps its stdin open until then, so the two surely overlap). Afterwards
 * the directory opens, {@code verify} passes, no disagreement is reported and
 * every acknowledged attach of every round is there.
 */
class TwoLaunchersIT {

    static final int ROUNDS = Integer.getInteger("launchers.rounds", 5);
    static final List<String> DEVICES = List.of("0000:18:10.0", "0000:3b:00.2", "0000:86:10.0", "0000:18:10.1",
            "0000:3b:00.3", "0000:86:10.2", "0000:18:10.2", "0000:3b:00.4", "0000:86:10.4", "0000:18:10.3");

    @TempDir
    Path dir;

    /** A launcher reading its commands from a pipe it keeps open. */
    final class Launcher {
        final Process process;
        final Path out;
        final Path err;
        final Writer stdin;

        Launcher(String name) throws IOException {
            out = dir.resolve(name + ".out");
            err = dir.resolve(name + ".err");
            process = new ProcessBuilder(LauncherCrashIT.java(), "-jar", IommuJarIT.jarPath().toString(), "--state",
                    dir.resolve("state").toString()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        void send(String commands) throws IOException {
            stdin.write(commands + "\n");
            stdin.flush();
        }

        String out() throws IOException {
            return Files.readString(out);
        }

        String err() throws IOException {
            return Files.readString(err);
        }
    }

    @Test
    void oneLauncherAtATimeTheOtherRefusedInOneLineNothingAcknowledgedLost() throws Exception {
        Map<String, Integer> acknowledged = new TreeMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            List<Launcher> both = List.of(new Launcher(round + "a"), new Launcher(round + "b"));
            for (int i = 0; i < 2; i++) {
                int guest = 2 * round + i + 1;
                both.get(i).send("iommu:attach " + guest + " " + DEVICES.get(2 * round + i) + "; echo ack-" + guest);
            }
            Launcher refused = awaitFirstExit(both);
            Launcher running = both.get(0) == refused ? both.get(1) : both.get(0);
            String why = "round " + round + "; refused: " + refused.err() + "; running: " + running.err();
            assertThat(running.process.isAlive()).as("the other one runs: %s", why).isTrue();
            assertThat(refused.process.exitValue()).as(why).isEqualTo(1);
            assertThat(refused.out()).as("the refused one acknowledged nothing").doesNotContain("ack-");
            assertThat(refused.err().lines().toList()).as(why).singleElement().asString()
                    .startsWith("--state '" + dir.resolve("state") + "': state directory " + dir.resolve("state")
                            + " is in use by process " + running.process.pid() + " (started ")
                    .endsWith("): one process at a time may use it; wait for that one to end, or use another"
                            + " directory");
            running.stdin.close();
            assertThat(running.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(running.process.exitValue()).as(why).isZero();
            int guest = 2 * round + (running == both.get(0) ? 1 : 2);
            assertThat(running.out()).as(why).contains("ack-" + guest);
            acknowledged.put(DEVICES.get(guest - 1), guest);
        }
        IommuJarIT.Run check = IommuJarIT.run("--state", dir.resolve("state").toString(), "-c",
                "iommu:verify; iommu:state --json; iommu:devices --json");
        assertThat(check.exit()).as(check.err()).isZero();
        assertThat(check.out()).startsWith("ok: map, strategy bitmaps and 5 units' context entries agree");
        String json = check.out().substring(check.out().indexOf('\n') + 1);
        var state = JsonParser.parseString(json.substring(0, json.indexOf("\n}") + 2)).getAsJsonObject();
        assertThat(state.get("problems").getAsJsonArray()).as("disagreements between journal and tables").isEmpty();
        Map<String, Integer> owners = new TreeMap<>();
        for (JsonElement e : JsonParser.parseString(json.substring(json.indexOf("\n}") + 2)).getAsJsonArray()) {
            var d = e.getAsJsonObject();
            if (!d.get("guest").isJsonNull()) {
                owners.put(d.get("bdf").getAsString(), d.get("guest").getAsInt());
            }
        }
        assertThat(owners).isEqualTo(acknowledged);
    }

    /** The first of the two to exit; fails when neither does (both would be writing). */
    private static Launcher awaitFirstExit(List<Launcher> both) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            for (Launcher l : both) {
                if (!l.process.isAlive()) {
                    return l;
                }
            }
            Thread.sleep(20);
        }
        List<Long> pids = new ArrayList<>();
        both.forEach(l -> {
            pids.add(l.process.pid());
            l.process.destroyForcibly();
        });
        throw new AssertionError("neither launcher of " + pids + " was refused within 60 s: both run on one directory");
    }
}
