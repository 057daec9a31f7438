package iommu.console;

import iommu.api.Quoted;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Supplier;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import iommu.api.CoreConfiguration;
import iommu.api.DeviceAssignment;
import iommu.api.IommuException;

/**
 * Selects the allocation strategy the way the platform wants it selected:
 * by writing the core's configuration ({@link CoreConfiguration}), then waiting until the core reports
 * the new one bound. Shared by {@code iommu:strategy NAME} and the
 * launcher's {@code --strategy NAME}.
 */
final class StrategySwitch {


    /** Why a switch was refused because of the name itself (nothing changed). */
    static final class UnknownStrategyException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnknownStrategyException(String message) {
            super(message);
        }
    }

    private final Supplier<DeviceAssignment> assignment;
    private final Supplier<Collection<String>> available;
    private final Supplier<ConfigurationAdmin> configAdmin;
    private final Duration timeout;

    StrategySwitch(Supplier<DeviceAssignment> assignment, Supplier<Collection<String>> available,
            Supplier<ConfigurationAdmin> configAdmin, Duration timeout) {
        this.assignment = assignment;
        this.available = available;
        this.configAdmin = configAdmin;
        this.timeout = timeout;
    }

    /** How long a refusal reported by the core must last before it is believed (a swap may be under way). */
    static final long REFUSAL_GRACE_MS = 300;

    /** The bound strategy, or a one-line error saying why there is none. */
    String current() {
        DeviceAssignment da = requireAssignment();
        Optional<String> bound = da.strategy();
        if (bound.isPresent()) {
            return bound.get();
        }
        String why = da.strategyProblem().map(p -> ": " + p).orElse("");
        throw new IommuException("no allocation strategy is bound (requested '" + da.requestedStrategy() + "')" + why
                + "; available: " + availableText());
    }

    /**
     * Selects the strategy and waits until the core bound it.
     *
     * @return the name of the strategy now bound
     * @throws UnknownStrategyException when no strategy service has that name (nothing changed)
     * @throws IommuException when the core did not bind it in time (configuration restored)
     */
    String switchTo(String name) {
        if (name == null || name.isBlank()) {
            throw new UnknownStrategyException("missing strategy name: expected one of " + availableText());
        }
        String wanted = name.trim();
        TreeSet<String> names = new TreeSet<>(available.get());
        if (!names.contains(wanted)) {
            throw new UnknownStrategyException("unknown strategy " + Quoted.of(wanted) + ": expected one of " + availableText());
        }
        DeviceAssignment da = requireAssignment();
        Optional<String> before = da.strategy();
        if (before.isPresent() && before.get().equals(wanted) && wanted.equals(configured().orElse(wanted))) {
            return wanted;
        }
        ConfigurationAdmin ca = configAdmin.get();
        if (ca == null) {
            throw new IommuException("cannot select strategy '" + wanted
                    + "': Configuration Admin is not available (expected org.apache.felix.configadmin to be running)");
        }
        Object previous;
        Configuration config;
        try {
            config = ca.getConfiguration(CoreConfiguration.PID, "?");
            Dictionary<String, Object> props = config.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            previous = props.get(CoreConfiguration.STRATEGY);
            props.put(CoreConfiguration.STRATEGY, wanted);
            config.update(props);
        } catch (IOException | RuntimeException e) {
            throw new IommuException("cannot write configuration " + CoreConfiguration.PID + ": " + e.getMessage(), e);
        }

        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<String> now = Optional.empty();
        Optional<String> problem = Optional.empty();
        long problemSince = 0;
        while (true) {
            DeviceAssignment d = assignment.get();
            now = d == null ? Optional.empty() : d.strategy();
            if (now.isPresent() && now.get().equals(wanted)) {
                return wanted;
            }
            // The core says it took the request but cannot bind it: believe it
            // once it has said so for a moment (not in the middle of a swap).
            problem = d != null && wanted.equals(d.requestedStrategy()) ? d.strategyProblem() : Optional.empty();
            if (problem.isPresent()) {
                long t = System.nanoTime();
                if (problemSince == 0) {
                    problemSince = t;
                } else if (t - problemSince >= REFUSAL_GRACE_MS * 1_000_000L) {
                    break;
                }
            } else {
                problemSince = 0;
            }
            if (System.nanoTime() - deadline >= 0) {
                break;
            }
            sleep(25);
        }

        // The core did not take it: put the configuration back as it was, so
        // that it asks for the strategy that is bound, and say why.
        restore(config, previous);
        String bound = now.map(s -> "still bound to '" + s + "'").orElse("no strategy bound");
        if (problem.isPresent()) {
            // the core's own words say what was refused and why
            String text = CoreText.oneLine(problem.get());
            String prefix = text.contains(wanted) ? "" : "iommu.core refused strategy '" + wanted + "': ";
            throw new IommuException(prefix + text + " (" + bound + "; configuration " + CoreConfiguration.PID + " restored)");
        }
        throw new IommuException("iommu.core did not bind strategy '" + wanted + "' within " + seconds(timeout)
                + " (" + bound + "; configuration " + CoreConfiguration.PID + " restored)");
    }

    /** The strategy named in iommu.core's configuration, if any. */
    Optional<String> configured() {
        ConfigurationAdmin ca = configAdmin.get();
        if (ca == null) {
            return Optional.empty();
        }
        try {
            Configuration[] configs = ca.listConfigurations("(service.pid=" + CoreConfiguration.PID + ")");
            if (configs == null || configs.length == 0 || configs[0].getProperties() == null) {
                return Optional.empty();
            }
            Object v = configs[0].getProperties().get(CoreConfiguration.STRATEGY);
            return Optional.ofNullable(v).map(String::valueOf);
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static void restore(Configuration config, Object previous) {
        try {
            Dictionary<String, Object> props = config.getProperties();
            if (props == null) {
                props = new Hashtable<>();
            }
            if (previous == null) {
                props.remove(CoreConfiguration.STRATEGY);
            } else {
                props.put(CoreConfiguration.STRATEGY, previous);
            }
            config.update(props);
        } catch (IOException | RuntimeException e) {
            // best effort: the error reported to the user says what happened
        }
    }

    private DeviceAssignment requireAssignment() {
        DeviceAssignment da = assignment.get();
        if (da == null) {
            throw new IommuException("the device assignment service is not available: expected bundle iommu.core to be active");
        }
        return da;
    }

    String availableText() {
        TreeSet<String> names = new TreeSet<>(available.get());
        return names.isEmpty() ? "(none registered)" : String.join(", ", names);
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IommuException("interrupted while waiting for iommu.core");
        }
    }
}
