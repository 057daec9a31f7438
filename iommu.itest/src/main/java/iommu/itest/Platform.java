package iommu.itest;

import java.io.IOException;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import iommu.api.CoreConfiguration;
import iommu.api.DeviceAssignment;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.spi.IommuUnit;

/** What the in-framework tests share: waiting for the platform, resetting it, reading the units. */
final class Platform {

    static final Duration WAIT = Duration.ofSeconds(10);

    private Platform() {
    }

    /** Polls until the condition holds, or fails with the description after {@link #WAIT}. */
    static void await(String description, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + description);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + description);
            }
        }
    }

    /** Writes the core's strategy configuration and waits until core reports the outcome. */
    static void requestStrategy(ConfigurationAdmin cm, DeviceAssignment assignment, String name) throws IOException {
        Configuration config = cm.getConfiguration(CoreConfiguration.PID, "?");
        Dictionary<String, Object> props = config.getProperties() == null ? new Hashtable<>() : config.getProperties();
        props.put(CoreConfiguration.STRATEGY, name);
        config.update(props);
        await("core to act on strategy '" + name + "'", () -> name.equals(assignment.requestedStrategy())
                && (assignment.strategy().filter(name::equals).isPresent() || assignment.strategyProblem().isPresent()));
    }

    /** Sets one property of the core's configuration and waits until the core acted on it. */
    static void configureCore(ConfigurationAdmin cm, DeviceAssignment assignment, String key, Object value)
            throws IOException {
        Configuration config = cm.getConfiguration(CoreConfiguration.PID, "?");
        Dictionary<String, Object> props = config.getProperties() == null ? new Hashtable<>() : config.getProperties();
        props.put(key, value);
        config.update(props);
        boolean none = "none".equals(value);
        await("core to act on " + key + "=" + value, () -> assignment.units().stream()
                .allMatch(u -> none == (u.hostDomainId == null)));
    }

    /** Back to the default state: no guest, per-unit bound. */
    static void reset(ConfigurationAdmin cm, DeviceAssignment assignment) throws IOException {
        List<PciAddress> attached = assignment.devices().stream().filter(d -> d.guest != null)
                .map(d -> PciAddress.parse(d.bdf)).toList();
        if (!attached.isEmpty()) {
            assignment.detach(attached);
        }
        Workload.unmapAll(assignment);
        requestStrategy(cm, assignment, "per-unit");
        await("per-unit to be bound", () -> assignment.strategy().filter("per-unit"::equals).isPresent());
    }

    static IommuUnit unit(BundleContext context, String unitId) {
        try {
            var refs = context.getServiceReferences(IommuUnit.class, "(" + IommuUnit.UNIT_ID + "=" + unitId + ")");
            ServiceReference<IommuUnit> ref = refs.stream().findFirst()
                    .orElseThrow(() -> new AssertionError("no unit service " + unitId));
            return Objects.requireNonNull(context.getService(ref));
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    static List<DeviceDTO> devicesOf(DeviceAssignment assignment, String unitId) {
        return assignment.devices().stream().filter(d -> d.unit.equals(unitId)).toList();
    }

    /** A snapshot of everything a failed call must leave as it was. */
    static String state(DeviceAssignment assignment) {
        StringBuilder sb = new StringBuilder();
        assignment.guests().forEach(g -> g.devices.forEach(d -> sb.append(g.guest).append(' ').append(d.bdf)
                .append(' ').append(d.unit).append(' ').append(d.did).append('\n')));
        assignment.units().forEach(u -> sb.append(u.id).append(" used=").append(u.usedDomainIds).append('\n'));
        sb.append("strategy=").append(assignment.strategy().orElse("none"));
        return sb.toString();
    }
}
