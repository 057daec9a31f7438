package iommu.console;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import iommu.api.DeviceAssignment;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.Quoted;
import iommu.api.spi.PlatformDiscovery;
import iommu.api.spi.support.StateDirectoryLock;

/**
 * The main thread of {@code java -jar iommu.jar} (DESIGN section 8).
 *
 * <p>The bnd launcher (7.x) registers a service carrying the command line in
 * its {@code launcher.arguments} property before it starts the bundles, and
 * adds {@code launcher.ready=true} to it once every bundle started. It then
 * waits for a {@code Callable<Integer>} registered with
 * {@code main.thread=true}, calls it on the main thread, stops the framework
 * and exits with the returned code. This component is that Callable: it is
 * satisfied by the launcher's service once it is ready, so it only exists
 * under the bnd launcher, and only after all bundles started (matching on
 * {@code launcher.ready} also keeps the property change from reactivating
 * this component under the launcher's feet: the launcher holds on to the
 * instance it was handed).
 */
@Component(service = Callable.class, property = "main.thread=true")
public class LauncherMain implements Callable<Integer> {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_ARGUMENTS = 2;

    /** How long to wait for the platform (core with a bound strategy, the Gogo runtime) to come up. */
    static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(10);

    static final String LAUNCHER_ARGUMENTS = "launcher.arguments";

    @Reference(service = Object.class, target = "(&(" + LAUNCHER_ARGUMENTS + "=*)(launcher.ready=true))")
    Map<String, Object> launcher;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile CommandProcessor processor;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile DeviceAssignment assignment;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ConfigurationAdmin configAdmin;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile List<ServiceReference<AllocationStrategy>> strategies = new ArrayList<>();

    /** The commands: the launcher shares their view of the registry (discoveries, units) and their completion. */
    @Reference
    IommuCommands commands;

    private BundleContext context;

    /** What was loaded at start, for the banner. */
    private String platformText = "embedded default platform";
    /** The state directory's lock, held from before anything in it is read until the run ends. */
    private StateDirectoryLock stateLock;

    @Activate
    void activate(BundleContext context) {
        this.context = context;
    }

    /** A failure that ends the run: its message (one line) and exit code. */
    static final class Exit extends Exception {
        private static final long serialVersionUID = 1L;
        final int code;

        Exit(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    @Override
    public Integer call() {
        // Write to the process's own streams: System.out is replaced by Gogo's
        // per-thread multiplexer while the framework runs.
        Charset cs = Charset.defaultCharset();
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, cs);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, cs);
        boolean debug = false;
        try {
            String[] args = arguments();
            LaunchOptions options;
            try {
                options = LaunchOptions.parse(args);
                if (options.help()) {
                    out.print(LaunchOptions.USAGE);
                    out.flush();
                    return OK;
                }
                options.checkAvailable();
            } catch (LaunchOptions.UsageException e) {
                err.println(e.getMessage());
                if (e.hint()) {
                    err.println(LaunchOptions.USAGE_HINT);
                }
                return BAD_ARGUMENTS;
            }
            debug = options.debug();
            return run(options, out, err);
        } catch (Exit e) {
            err.println(e.getMessage());
            return e.code;
        } catch (Exception | LinkageError e) {
            err.println(message(e));
            if (debug) {
                e.printStackTrace(err);
            }
            return FAILED;
        } finally {
            out.flush();
            err.flush();
            settleGogoSessions();
            if (stateLock != null) {
                stateLock.close(); // the core and the units still share it until the framework stops
            }
        }
    }

    /**
     * Works around a race in Gogo's runtime (1.1.6) when the framework stops:
     * CommandProcessorImpl.stop() copies the keys of its WeakHashMap of
     * sessions into an array sized by size(), and a session that the garbage
     * collector cleared but has not yet queued leaves a null in that array,
     * which stop() then closes: a NullPointerException and its stack trace on
     * stderr after a successful run, now and then. Collecting first and giving
     * the reference handler a moment lets size() expunge such sessions.
     */
    private static void settleGogoSessions() {
        System.gc();
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String[] arguments() {
        Object v = launcher == null ? null : launcher.get(LAUNCHER_ARGUMENTS);
        if (v instanceof String[] a) {
            return a;
        }
        if (v instanceof Collection<?> c) {
            return c.stream().map(String::valueOf).toArray(String[]::new);
        }
        return new String[0];
    }

    private int run(LaunchOptions options, PrintStream out, PrintStream err) throws Exception {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        DeviceAssignment da = awaitPlatform(deadline);
        if (options.hostDomain().isPresent()) {
            configureHostDomain(options.hostDomain().get(), deadline);
        }
        if (options.quarantine().isPresent()) {
            configureQuarantine(options.quarantine().get());
        }
        if (options.platform().isPresent()) {
            loadPlatform(options.platform().get(), deadline, err);
        }
        if (options.state().isPresent()) {
            loadState(options.state().get(), options.rebuildTables(), deadline, err);
        }
        CommandProcessor cp = await(deadline, () -> processor != null) ? processor : null;
        if (cp == null) {
            throw new Exit(FAILED, "the Gogo command processor did not start within " + StrategySwitch.seconds(STARTUP_TIMEOUT)
                    + ": expected bundle org.apache.felix.gogo.runtime to be active");
        }

        if (options.strategy().isPresent()) {
            StrategySwitch sw = new StrategySwitch(() -> assignment, this::strategyNames, () -> configAdmin,
                    IommuCommands.SWITCH_TIMEOUT);
            try {
                sw.switchTo(options.strategy().get());
            } catch (StrategySwitch.UnknownStrategyException e) {
                throw new Exit(BAD_ARGUMENTS, "--strategy: " + e.getMessage());
            }
        }

        // Commands given, or stdin/stdout not a terminal: run commands, no shell.
        boolean interactive = !options.hasCommands() && System.console() != null;
        if (!interactive) {
            return CommandRunner.run(cp, options, out, err);
        }
        return runShell(cp, da, options.debug());
    }

    /**
     * {@code --platform PATH}: the discovery that recognizes the path replaces
     * the platform its vendor loaded at start. Unrecognized: exit 2 with the
     * formats accepted; unreadable or refused: exit 1 with the discovery's line.
     */
    private void loadPlatform(Path path, long deadline, PrintStream err) throws Exit {
        await(deadline, () -> !commands.discoveryServices.get().isEmpty());
        PlatformDiscovery discovery;
        try {
            discovery = commands.discoveryFor(path);
        } catch (Discoveries.UnrecognizedPlatformException e) {
            throw new Exit(BAD_ARGUMENTS, "--platform " + e.getMessage());
        } catch (RuntimeException e) {
            throw new Exit(FAILED, "--platform " + Quoted.of(path.toString(), 256) + ": " + Errors.message(e));
        }
        // The named platform is the whole machine: other vendors' start-up platforms (the
        // embedded VT-d default) leave first, so no two vendors claim the same PCI functions.
        DeviceAssignment da = assignment;
        for (PlatformDiscovery other : commands.discoveryServices.get()) {
            if (other == discovery || da == null) {
                continue;
            }
            for (iommu.api.dto.UnitDTO unit : da.units()) {
                if (unit.vendor.equals(other.vendor())) {
                    try {
                        other.forget(unit.id);
                    } catch (RuntimeException e) {
                        throw new Exit(FAILED, "--platform " + Quoted.of(path.toString(), 256) + ": cannot remove "
                                + other.vendor() + " unit "
                                + unit.id + ": " + Errors.message(e));
                    }
                }
            }
        }
        Set<String> before = commands.presentUnitIds();
        DiscoveryDTO dto;
        try (Progress progress = Progress.start(err, "loading platform " + path,
                () -> commands.newUnits(before) + " new units registered so far")) {
            dto = discovery.replacePlatform(path);
        } catch (RuntimeException e) {
            throw new Exit(FAILED, "--platform " + Quoted.of(path.toString(), 256) + ": " + Errors.message(e));
        }
        int units = dto.units == null ? 0 : dto.units.size();
        platformText = path + " (" + dto.format + ", vendor " + discovery.vendor() + ": " + units
                + (units == 1 ? " unit" : " units") + ", " + dto.devices + " devices"
                + (dto.warnings == null || dto.warnings.isEmpty() ? "" : ", " + dto.warnings.size() + " warnings") + ")";
        if (dto.warnings != null) {
            for (String w : dto.warnings) {
                err.println("--platform " + path + ": warning: " + CoreText.oneLine(w));
            }
        }
    }

    /** Writes iommu.core's {@code quarantine}; the next detach follows it (configuration is delivered in order). */
    private void configureQuarantine(String mode) throws Exit {
        CoreConfigWriter.write(configAdmin, "--quarantine", "it", Map.of(iommu.api.CoreConfiguration.QUARANTINE, mode));
    }

    /** Writes iommu.core's {@code hostDomain} and waits until every unit shows it. */
    private void configureHostDomain(String mode, long deadline) throws Exit {
        ConfigurationAdmin ca = await(deadline, () -> configAdmin != null) ? configAdmin : null;
        CoreConfigWriter.write(ca, "--host-domain", "it", Map.of(iommu.api.CoreConfiguration.HOST_DOMAIN, mode));
        boolean none = mode.equals("none");
        if (!await(deadline, () -> assignment != null && assignment.units().stream()
                .allMatch(u -> none == (u.hostDomainId == null)))) {
            throw new Exit(FAILED, "--host-domain " + mode + ": iommu.core did not take it within "
                    + StrategySwitch.seconds(STARTUP_TIMEOUT));
        }
    }

    /** {@code --state DIR [--rebuild-tables]}: see {@link StateOption}; the lock is held until the run ends. */
    private void loadState(Path dir, boolean rebuild, long deadline, PrintStream err) throws Exit {
        StateOption state = new StateOption(() -> commands.discoveryServices.get(), () -> configAdmin,
                () -> assignment, "framework " + context.getProperty(org.osgi.framework.Constants.FRAMEWORK_UUID));
        stateLock = state.load(dir, rebuild, deadline, err);
    }

    // ------------------------------------------------------------------ waiting

    private DeviceAssignment awaitPlatform(long deadline) throws Exit {
        await(deadline, () -> {
            DeviceAssignment d = assignment;
            return d != null && d.strategy().isPresent();
        });
        DeviceAssignment d = assignment;
        if (d == null) {
            String why = Diagnosis.inactiveComponents(context);
            throw new Exit(FAILED, "the platform did not start within " + StrategySwitch.seconds(STARTUP_TIMEOUT)
                    + ": no DeviceAssignment service (expected bundle iommu.core to be active)"
                    + (why.isEmpty() ? "" : ": " + why));
        }
        if (d.strategy().isEmpty()) {
            String why = d.strategyProblem().map(p -> ": " + CoreText.oneLine(p)).orElse("");
            throw new Exit(FAILED, "the platform did not start within " + StrategySwitch.seconds(STARTUP_TIMEOUT)
                    + ": iommu.core has no allocation strategy bound (requested '" + d.requestedStrategy() + "'"
                    + ", available: " + String.join(", ", strategyNames()) + ")" + why);
        }
        return d;
    }

    static boolean await(long deadline, BooleanSupplier condition) {
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            StrategySwitch.sleep(20);
        }
        return true;
    }

    Collection<String> strategyNames() {
        List<String> names = new ArrayList<>();
        for (ServiceReference<AllocationStrategy> ref : strategies) {
            Object name = ref.getProperty(AllocationStrategy.NAME);
            if (name != null) {
                names.add(String.valueOf(name));
            }
        }
        names.sort(null);
        return names;
    }

    /** The one line to print for a failure: the deepest useful message, never a stack trace. */
    static String message(Throwable e) {
        return Errors.message(e);
    }

    // ------------------------------------------------------------------ interactive

    private int runShell(CommandProcessor cp, DeviceAssignment da, boolean debug) throws Exit {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        if (!await(deadline, () -> goshReference() != null)) {
            throw new Exit(FAILED, "the Gogo shell did not start within " + StrategySwitch.seconds(STARTUP_TIMEOUT)
                    + ": expected bundle org.apache.felix.gogo.jline to be active (or use -c, a script file or piped commands)");
        }
        String banner = InteractiveShell.banner(assignment != null ? assignment : da, platformText);
        try {
            return InteractiveShell.run(cp, banner, commands, debug);
        } catch (NoClassDefFoundError e) {
            throw new Exit(FAILED, "the interactive shell needs JLine and the Gogo JLine shell"
                    + " (bundles org.jline, org.apache.felix.gogo.jline): use -c, a script file or piped commands");
        } catch (Exception e) {
            throw new Exit(FAILED, "the interactive shell failed: " + message(e));
        }
    }

    /** The gogo.jline Shell service, which provides the {@code gogo:gosh} command. */
    private ServiceReference<?> goshReference() {
        try {
            ServiceReference<?>[] refs = context.getServiceReferences((String) null,
                    "(&(osgi.command.scope=gogo)(osgi.command.function=gosh))");
            return refs == null || refs.length == 0 ? null : refs[0];
        } catch (InvalidSyntaxException e) {
            return null;
        }
    }
}
