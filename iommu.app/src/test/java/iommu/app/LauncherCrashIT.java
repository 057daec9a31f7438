package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/**
 * Issue 8's crash test on the product itself: {@code java -jar iommu.jar
 * --state DIR} runs an attach/detach/map/unmap workload fed on its stdin and
 * is killed with SIGKILL at random points, in the middle of an operation or
 * while it starts and recovers; a new launcher on the same directory must hold
 * every acknowledged operation (at most the one under way may have happened
 * or not), its units must come up on the tables their files kept, the
 * mappings must translate through them, and {@code iommu:verify} must pass.
 * The seed is printed; {@code -Dcrash.seed=N} replays a run,
 * {@code -Dcrash.rounds=N} runs longer.
 */
class LauncherCrashIT {

    /** Four virtual functions on each of dmar0, dmar1 and dmar2 of the default platform (no reserved memory). */
    static final List<String> DEVICES = List.of("0000:18:10.0", "0000:18:10.1", "0000:18:10.2", "0000:18:10.3",
            "0000:3b:00.2", "0000:3b:00.3", "0000:3b:00.4", "0000:3b:00.5",
            "0000:86:10.0", "0000:86:10.2", "0000:86:10.4", "0000:86:10.6");
    static final int GUESTS = 6;
    static final long ACK_TIMEOUT_SECONDS = 60;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;
    /** How many kills left the operation under way done in the tables, and how many disagreements were reported. */
    int underWayDone;
    int disagreements;

    /** What was acknowledged: device to guest, and each guest's mapped pages (IOVA to host address). */
    static final class Model {
        final Map<String, Integer> owner = new TreeMap<>();
        final Map<Integer, Map<Long, Long>> pages = new TreeMap<>();

        Model copy() {
            Model m = new Model();
            m.owner.putAll(owner);
            pages.forEach((g, p) -> m.pages.put(g, new TreeMap<>(p)));
            return m;
        }
    }

    /** One operation: its console command and what it does to the model. */
    record Op(String command, java.util.function.Consumer<Model> effect) {
    }

    static Op randomOp(Model model, Random rnd) {
        int choice = rnd.nextInt(10);
        List<String> free = DEVICES.stream().filter(d -> !model.owner.containsKey(d)).toList();
        List<String> used = new ArrayList<>(model.owner.keySet());
        if (choice < 4 && !free.isEmpty() || used.isEmpty()) {
            String device = free.get(rnd.nextInt(free.size()));
            int guest = 1 + rnd.nextInt(GUESTS);
            return new Op("iommu:attach " + guest + " " + device, m -> m.owner.put(device, guest));
        }
        if (choice < 7) {
            String device = used.get(rnd.nextInt(used.size()));
            return new Op("iommu:detach " + device, m -> m.owner.remove(device));
        }
        int guest = model.owner.get(used.get(rnd.nextInt(used.size())));
        Map<Long, Long> mapped = model.pages.getOrDefault(guest, Map.of());
        if (choice < 9 || mapped.isEmpty()) {
            long iova = 0x100_0000L + 0x1000L * rnd.nextInt(64);
            if (!mapped.containsKey(iova)) {
                long host = 0x8000_0000L + 0x1000L * rnd.nextInt(1 << 16);
                return new Op(String.format("iommu:map %d 0x%x 0x%x 1", guest, iova, host),
                        m -> m.pages.computeIfAbsent(guest, g -> new TreeMap<>()).put(iova, host));
            }
        }
        long iova = new ArrayList<>(mapped.keySet()).get(rnd.nextInt(mapped.size()));
        return new Op(String.format("iommu:unmap %d 0x%x 1", guest, iova), m -> {
            m.pages.get(guest).remove(iova);
            if (m.pages.get(guest).isEmpty()) {
                m.pages.remove(guest);
            }
        });
    }

    /** A launcher reading commands from a pipe, its stdout lines in a queue. */
    final class Launcher {
        final Process process;
        final Writer stdin;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Launcher() throws IOException {
            process = new ProcessBuilder(java(), "-jar", IommuJarIT.jarPath().toString(), "--state",
                    dir.resolve("state").toString())
                    .redirectError(dir.resolve("stderr-" + System.nanoTime()).toFile())
                    .start();
            stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null;) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // the process was killed: its pipe breaks
                }
            }, "launcher stdout");
            reader.setDaemon(true);
            reader.start();
        }

        void send(String command) throws IOException {
            stdin.write(command + "\n");
            stdin.flush();
        }

        void awaitLine(String wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ACK_TIMEOUT_SECONDS);
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (wanted.equals(line)) {
                    return;
                }
                if (line == null && !process.isAlive()) {
                    throw new AssertionError("the launcher exited " + process.exitValue() + " before '" + wanted
                            + "'; see " + dir);
                }
            }
            throw new AssertionError("no '" + wanted + "' within " + ACK_TIMEOUT_SECONDS + " s");
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL on Linux
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    static String java() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    @Test
    void aLauncherKilledAtRandomPointsLosesNoAcknowledgedOperation() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        int rounds = Integer.getInteger("crash.rounds", 5);
        System.out.println("LauncherCrashIT seed " + seed + " (-Dcrash.seed=" + seed + " replays it)");
        Random rnd = new Random(seed);
        Model model = new Model();
        int acknowledged = 0;
        for (int round = 0; round < rounds; round++) {
            Launcher launcher = new Launcher();
            Op underWay = null;
            if (round > 0 && rnd.nextInt(4) == 0) {
                // killed while it starts and reconciles the kept tables with the journal
                Thread.sleep(300 + rnd.nextInt(1500));
            } else {
                int ops = 5 + rnd.nextInt(40);
                for (int i = 0; ; i++) {
                    Op op = randomOp(model, rnd);
                    launcher.send(op.command() + "; echo ack-" + round + "-" + i);
                    if (i == ops) {
                        underWay = op;
                        java.util.concurrent.locks.LockSupport.parkNanos(rnd.nextInt(8_000_000));
                        break;
                    }
                    launcher.awaitLine("ack-" + round + "-" + i);
                    op.effect().accept(model);
                    acknowledged++;
                }
            }
            launcher.kill();
            model = check(model, underWay, seed);
        }
        System.out.println("LauncherCrashIT: " + rounds + " kills, " + acknowledged + " acknowledged operations kept; "
                + underWayDone + " attaches or detaches under way had happened, " + disagreements
                + " disagreements between journal and kept tables reported");
    }

    /**
     * A new launcher on the directory: verify passes, every unit inherited its
     * tables, the devices are the model's (or the model's with the operation
     * under way), every acknowledged mapping translates and every acknowledged
     * unmap faults. Returns the model as it turned out.
     */
    Model check(Model model, Op underWay, long seed) throws Exception {
        Model after = model.copy();
        if (underWay != null) {
            underWay.effect().accept(after);
        }
        IommuJarIT.Run devices = IommuJarIT.run("--state", dir.resolve("state").toString(), "-c",
                "iommu:state --json; iommu:unit dmar0; iommu:unit dmar1; iommu:unit dmar2; iommu:verify;"
                        + " iommu:devices --json");
        String why = "seed " + seed + ", operation under way: " + (underWay == null ? "none" : underWay.command())
                + "; stderr: " + devices.err();
        assertThat(devices.exit()).as(why).isZero();
        // the journal and the kept tables disagree at most on the operation under way: the device of an attach
        // or detach, the guest of a map or unmap (journaled before its pages reach the tables)
        var state = JsonParser.parseString(devices.out().substring(0, devices.out().indexOf("\n}") + 2))
                .getAsJsonObject();
        assertThat(state.get("directory").getAsString()).isEqualTo(dir.resolve("state").toString());
        // a guest is named "guest N:" or "guest N's" (a unit's page table), never as the start of another number
        String underWaySubject = underWay == null ? null
                : underWay.command().matches("iommu:(attach|detach) .*")
                        ? java.util.regex.Pattern.quote(underWay.command()
                                .substring(underWay.command().lastIndexOf(' ') + 1))
                        : "guest " + underWay.command().split(" ")[1] + "(?!\\d)";
        disagreements += state.get("problems").getAsJsonArray().size();
        for (JsonElement problem : state.get("problems").getAsJsonArray()) {
            assertThat(underWaySubject).as("a disagreement with no operation under way: %s; %s", problem, why)
                    .isNotNull();
            assertThat(problem.getAsString()).as(why).containsPattern(underWaySubject);
        }
        // each unit came up on the tables its file kept, holding the entries the killed process wrote
        java.util.regex.Matcher tables = java.util.regex.Pattern
                .compile("\\n  id +(dmar\\d)\\n(?s:.*?)\\n  tables +\\S+ \\(inherited, (\\d+) present")
                .matcher(devices.out());
        int units = 0;
        while (tables.find()) {
            String prefix = Map.of("dmar0", "0000:18:", "dmar1", "0000:3b:", "dmar2", "0000:86:").get(tables.group(1));
            long kept = Long.parseLong(tables.group(2));
            long acknowledgedThere = model.owner.keySet().stream().filter(d -> d.startsWith(prefix)).count();
            long withUnderWay = after.owner.keySet().stream().filter(d -> d.startsWith(prefix)).count();
            assertThat(kept).as("present context entries kept by %s; %s", tables.group(1), why)
                    .isIn(acknowledgedThere, withUnderWay);
            units++;
        }
        assertThat(units).as("units that inherited their tables; %s", why).isEqualTo(3);
        String out = devices.out().substring(devices.out().indexOf("\nok: ") + 1);
        assertThat(out).as(why).startsWith("ok: ");
        Map<String, Integer> owner = new TreeMap<>();
        String json = out.substring(out.indexOf('\n') + 1);
        for (JsonElement e : JsonParser.parseString(json).getAsJsonArray()) {
            var d = e.getAsJsonObject();
            if (DEVICES.contains(d.get("bdf").getAsString()) && !d.get("guest").isJsonNull()) {
                owner.put(d.get("bdf").getAsString(), d.get("guest").getAsInt());
            }
        }
        Model found;
        if (owner.equals(model.owner)) {
            found = model.copy();
        } else {
            assertThat(owner).as("the devices' owners match what was acknowledged, or that plus the operation under"
                    + " way; %s", why).isEqualTo(after.owner);
            found = after.copy();
            underWayDone++;
        }
        // the mappings, through the kept tables: each acknowledged page translates, each unmapped one faults
        StringBuilder translations = new StringBuilder();
        List<long[]> expected = new ArrayList<>();
        Map<Integer, String> deviceOf = new HashMap<>();
        found.owner.forEach((device, guest) -> deviceOf.putIfAbsent(guest, device));
        Map<Integer, Map<Long, Long>> candidates = new TreeMap<>(model.pages);
        after.pages.forEach(candidates::putIfAbsent);
        for (var guest : candidates.keySet()) {
            String device = deviceOf.get(guest);
            if (device == null) {
                continue;
            }
            java.util.Set<Long> iovas = new java.util.TreeSet<>(model.pages.getOrDefault(guest, Map.of()).keySet());
            iovas.addAll(after.pages.getOrDefault(guest, Map.of()).keySet());
            for (long iova : iovas) {
                translations.append(String.format("iommu:translate %s 0x%x; ", device, iova));
                expected.add(new long[] {guest, iova});
            }
        }
        if (expected.isEmpty()) {
            return found;
        }
        IommuJarIT.Run dma = IommuJarIT.run("--state", dir.resolve("state").toString(), "-c", translations.toString());
        assertThat(dma.exit()).as(why + dma.err()).isZero();
        List<String> lines = dma.out().lines().toList();
        assertThat(lines).as(why).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            int guest = (int) expected.get(i)[0];
            long iova = expected.get(i)[1];
            Long before = model.pages.getOrDefault(guest, Map.of()).get(iova);
            Long with = after.pages.getOrDefault(guest, Map.of()).get(iova);
            String line = lines.get(i);
            Long seen = line.contains(" -> host 0x") ? Long.decode(line.substring(line.indexOf(" -> host ") + 9).trim())
                    : null;
            assertThat(seen).as("guest %d IOVA 0x%x: %s; %s", guest, iova, line, why).isIn(before, with);
            Map<Long, Long> pages = found.pages.computeIfAbsent(guest, g -> new TreeMap<>());
            if (seen == null) {
                pages.remove(iova);
            } else {
                pages.put(iova, seen);
            }
        }
        found.pages.values().removeIf(Map::isEmpty);
        return found;
    }
}
