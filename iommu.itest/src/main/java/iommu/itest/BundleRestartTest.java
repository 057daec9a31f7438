package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.util.tracker.ServiceTracker;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

import iommu.api.CoreConfiguration;
import iommu.api.DeviceAssignment;
import iommu.api.PciAddress;

/**
 * DESIGN invariant 6: each bundle of the platform stopped and started while
 * eight threads attach and detach; afterwards every acknowledged attach and
 * detach holds and the audit passes. While a bundle is down, operations may
 * fail, each with one clear line; nothing else may. The console, which holds
 * no state of its own, is restarted the same way while its commands are used.
 */
class BundleRestartTest {

    @InjectBundleContext
    BundleContext context;
    @InjectService
    ConfigurationAdmin cm;

    ServiceTracker<DeviceAssignment, DeviceAssignment> tracker;
    ServiceTracker<CommandProcessor, CommandProcessor> gogo;

    @BeforeEach
    void open() throws Exception {
        tracker = new ServiceTracker<>(context, DeviceAssignment.class, null);
        tracker.open();
        gogo = new ServiceTracker<>(context, CommandProcessor.class, null);
        gogo.open();
        Platform.reset(cm, tracker.waitForService(10_000));
    }

    @AfterEach
    void close() throws Exception {
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName().startsWith("iommu.") && b.getState() != Bundle.ACTIVE && b.getHeaders().get("Fragment-Host") == null) {
                b.start();
            }
        }
        Platform.reset(cm, tracker.waitForService(10_000));
        tracker.close();
        gogo.close();
    }

    DeviceAssignment ready() {
        Platform.await("the platform to be back", () -> {
            DeviceAssignment a = tracker.getService();
            return a != null && a.strategy().filter("per-unit"::equals).isPresent() && a.units().size() >= 5;
        });
        return tracker.getService();
    }

    @ParameterizedTest
    @ValueSource(strings = {"iommu.vtd", "iommu.flush", "iommu.core", "iommu.alloc.perunit"})
    void nothingIsLostWhenABundleRestartsUnderLoad(String bsn) throws Exception {
        restartUnderLoad(bsn);
    }

    /**
     * Stops and starts the bundle twice while the eight workers attach and
     * detach; then every acknowledged operation holds, the audit passes, and
     * the refusals while the bundle was down were one clear line each.
     */
    private DeviceAssignment restartUnderLoad(String bsn) throws Exception {
        Bundle bundle = Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst()
                .orElseThrow();
        Workload.Result load = Workload.run(tracker::getService, () -> {
            for (int round = 0; round < 2; round++) {
                Thread.sleep(150);
                bundle.stop();
                Thread.sleep(100);
                bundle.start();
                ready();
            }
            Thread.sleep(150);
        });
        DeviceAssignment assignment = ready();
        assertThat(load.workers()).allSatisfy(w -> assertThat(w.operations).isPositive());
        assertThat(load.errors()).allSatisfy(e -> assertThat(e).doesNotContain("\n").doesNotContain("Exception"));
        assertThat(Workload.platformView(assignment)).as("after restarting %s", bsn).isEqualTo(load.attached());
        assertThat(load.wrongTranslations(assignment, id -> Platform.unit(context, id)))
                .as("DMA after restarting %s", bsn).isEmpty();
        assertThat(assignment.audit()).isEmpty();
        return assignment;
    }

    /**
     * With a state directory (Config Admin: {@code iommu.vtd.platform} and
     * {@code iommu.core} {@code stateDirectory}), the VT-d units' tables live
     * in files: the vtd bundle restarted under load brings its units back on
     * the tables they kept, which agree with the core's records (nothing
     * reported, nothing lost), as they would after a killed process.
     */
    @Test
    void theVtdBundleRestartedUnderLoadComesBackOnItsKeptTables() throws Exception {
        java.nio.file.Path state = java.nio.file.Files.createTempDirectory("iommu-kept");
        DeviceAssignment assignment = ready();
        List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        var readerRef = context.getServiceReference(org.osgi.service.log.LogReaderService.class);
        org.osgi.service.log.LogReaderService reader = context.getService(readerRef);
        org.osgi.service.log.LogListener listener = e -> log.add(e.getLogLevel() + " " + e.getMessage());
        reader.addLogListener(listener);
        org.osgi.service.cm.Configuration vtd = cm.getConfiguration("iommu.vtd.platform", "?");
        org.osgi.service.cm.Configuration core = cm.getConfiguration(CoreConfiguration.PID, "?");
        try {
            vtd.update(new java.util.Hashtable<>(Map.of("stateDirectory", state.toString())));
            java.util.Dictionary<String, Object> coreProps = core.getProperties();
            coreProps.put(CoreConfiguration.STATE_DIRECTORY, state.toString());
            core.update(coreProps);
            Platform.await("the units to keep their tables in " + state, () -> vtdUnits().size() == 5
                    && vtdUnits().stream().allMatch(u -> String.valueOf(u.describe().get("tables"))
                            .startsWith(state.resolve("vtd").toString())));
            Platform.await("the core to keep its journal in " + state,
                    () -> state.toString().equals(assignment.state().directory));
            DeviceAssignment after = restartUnderLoad("iommu.vtd");
            assertThat(vtdUnits()).hasSize(5).allSatisfy(u -> assertThat(u.inheritedTables()).as(u.id()).isTrue());
            assertThat(after.state().problems).as("disagreements between the kept tables and the core; log: %s",
                    String.join("\n", log)).isEmpty();
        } finally {
            reader.removeLogListener(listener);
            context.ungetService(readerRef);
            java.util.Dictionary<String, Object> coreProps = core.getProperties();
            coreProps.put(CoreConfiguration.STATE_DIRECTORY, "");
            core.update(coreProps);
            vtd.delete();
            Platform.await("the units back on the heap", () -> vtdUnits().size() == 5 && vtdUnits().stream()
                    .allMatch(u -> String.valueOf(u.describe().get("tables")).startsWith("heap")));
        }
    }

    List<iommu.api.spi.IommuUnit> vtdUnits() {
        List<iommu.api.spi.IommuUnit> units = new ArrayList<>();
        try {
            for (ServiceReference<iommu.api.spi.IommuUnit> ref : context.getServiceReferences(
                    iommu.api.spi.IommuUnit.class, "(" + iommu.api.spi.IommuUnit.VENDOR + "=vt-d)")) {
                iommu.api.spi.IommuUnit unit = context.getService(ref);
                if (unit != null) {
                    units.add(unit);
                }
            }
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
        return units;
    }

    /**
     * The console restarted four times while eight threads attach and
     * detach, its commands used between restarts (attach, detach, guests,
     * verify on VFs the workers never touch). The workers do not notice (the
     * console is no part of their path: no error at all); whatever was
     * attached through the console stays attached across its restarts (its
     * state is the core's); and once back, its commands are registered again
     * and agree with the service.
     */
    @Test
    void nothingIsLostWhenTheConsoleRestartsUnderLoad() throws Exception {
        Bundle console = Arrays.stream(context.getBundles()).filter(b -> "iommu.console".equals(b.getSymbolicName()))
                .findFirst().orElseThrow(() -> new AssertionError("iommu.console is not in the test runtime"));
        CommandProcessor processor = gogo.waitForService(10_000);
        assertThat(processor).as("Gogo's CommandProcessor").isNotNull();
        List<PciAddress> spare = consoleDevices();
        Map<PciAddress, Integer> viaConsole = new TreeMap<>();
        awaitCommands();
        assertThat(command(processor, "iommu:verify")).startsWith("ok: ");

        Workload.Result load = Workload.run(tracker::getService, () -> {
            for (int round = 0; round < 4; round++) {
                awaitCommands();
                int guest = 500 + round;
                // one VF under dmar0 and one under dmar2: the guest holds a DID on each
                PciAddress a = spare.get(2 * round);
                PciAddress b = spare.get(2 * round + 1);
                assertThat(command(processor, "iommu:attach " + guest + " " + a + " " + b))
                        .contains("guest " + guest + ": 2 devices on 2 units");
                viaConsole.put(a, guest);
                viaConsole.put(b, guest);
                if (round > 0) {
                    PciAddress earlier = spare.get(2 * (round - 1));
                    assertThat(command(processor, "iommu:detach " + earlier)).startsWith("detached");
                    viaConsole.remove(earlier);
                }
                assertThat(consoleView(command(processor, "iommu:guests --json")))
                        .as("the console's guests in 'iommu:guests --json', round %d", round).isEqualTo(viaConsole);
                assertThat(command(processor, "iommu:verify")).startsWith("ok: ");
                Thread.sleep(100);

                console.stop();
                assertThat(commandServices()).as("the iommu commands while the console is stopped").isEmpty();
                assertThatThrownBy(() -> command(processor, "iommu:verify"))
                        .as("iommu:verify while the console is stopped").hasMessageContaining("iommu:verify");
                assertThat(Workload.platformView(tracker.getService())).as("the console's attachments while it is stopped")
                        .containsAllEntriesOf(viaConsole);
                Thread.sleep(100);
                console.start();
            }
            awaitCommands();
            Thread.sleep(150);
        });
        DeviceAssignment assignment = ready();
        assertThat(load.workers()).allSatisfy(w -> assertThat(w.operations).isPositive());
        assertThat(load.errors()).as("the workers' errors: the console is not in their path").isEmpty();

        Map<PciAddress, Integer> expected = new TreeMap<>(load.attached());
        expected.putAll(viaConsole);
        assertThat(viaConsole).hasSize(4 * 2 - 3); // four rounds attach two each, the last three detach one each
        assertThat(Workload.platformView(assignment)).as("after restarting iommu.console").isEqualTo(expected);
        assertThat(load.wrongTranslations(assignment, id -> Platform.unit(context, id))).isEmpty();
        assertThat(assignment.audit()).isEmpty();

        // the console is back: its commands registered again, and they say what the service says
        awaitCommands();
        assertThat(command(processor, "iommu:verify")).startsWith("ok: map, strategy bitmaps and ");
        assertThat(guestsView(command(processor, "iommu:guests --json"))).isEqualTo(expected);
        String last = spare.get(6).toString();
        assertThat(command(processor, "iommu:detach " + last)).startsWith("detached").contains(last);
        assertThat(Workload.platformView(assignment)).doesNotContainKey(spare.get(6));

        // The console's LauncherMain is satisfied here too (the bnd launcher's service is there), so
        // its main.thread Callable is registered; the launcher runs the tester's Runnable, registered
        // first, and never takes the console's: no bundle uses it, so it was never even activated.
        List<ServiceReference<?>> mains = new ArrayList<>();
        for (ServiceReference<?> ref : context.getServiceReferences((String) null,
                "(&(objectClass=java.util.concurrent.Callable)(main.thread=true))")) {
            if (ref.getBundle() == console) {
                mains.add(ref);
            }
        }
        assertThat(mains).as("the console's main.thread services").hasSize(1);
        assertThat(mains.get(0).getUsingBundles()).as("bundles using the console's main.thread service").isNull();
    }

    /** NIC VFs no worker of the Workload uses: alternately under dmar0 and dmar2. */
    static List<PciAddress> consoleDevices() {
        Set<PciAddress> workers = new HashSet<>();
        for (int w = 0; w < 8; w++) {
            workers.addAll(new Workload.Worker(w, () -> null, new AtomicBoolean()).devices);
        }
        List<PciAddress> spare = new ArrayList<>();
        for (int n = 127; spare.size() < 8; n--) {
            PciAddress a = HotSwapTest.nic(0).get(n);
            PciAddress b = HotSwapTest.nic(2).get(n);
            if (!workers.contains(a) && !workers.contains(b)) {
                spare.add(a);
                spare.add(b);
            }
        }
        return spare;
    }

    /** Runs one command line in a fresh Gogo session; its result as the console prints it. */
    static String command(CommandProcessor processor, String line) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), print, print);
        try {
            Object result = session.execute(line);
            // what the shell prints: the result through the console's converter
            return result == null ? out.toString(StandardCharsets.UTF_8)
                    : String.valueOf(session.format(result, org.apache.felix.service.command.Converter.INSPECT));
        } finally {
            session.close();
        }
    }

    ServiceReference<?>[] commandServices() throws Exception {
        ServiceReference<?>[] refs = context.getServiceReferences((String) null,
                "(&(osgi.command.scope=iommu)(osgi.command.function=verify))");
        return refs == null ? new ServiceReference<?>[0] : refs;
    }

    void awaitCommands() {
        Platform.await("the iommu commands to be registered", () -> {
            try {
                return commandServices().length == 1;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    /** Device to guest, from the JSON of 'iommu:guests --json'. */
    static Map<PciAddress, Integer> guestsView(String json) {
        Map<PciAddress, Integer> view = new TreeMap<>();
        for (JsonElement g : JsonParser.parseString(json).getAsJsonArray()) {
            int guest = g.getAsJsonObject().get("guest").getAsInt();
            for (JsonElement d : g.getAsJsonObject().getAsJsonArray("devices")) {
                view.put(PciAddress.parse(d.getAsJsonObject().get("bdf").getAsString()), guest);
            }
        }
        return view;
    }

    /** The part of {@link #guestsView} that the console made: guests 500 to 599. */
    static Map<PciAddress, Integer> consoleView(String json) {
        Map<PciAddress, Integer> view = guestsView(json);
        view.values().removeIf(g -> g < 500 || g >= 600);
        return view;
    }
}
