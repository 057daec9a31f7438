package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.util.tracker.ServiceTracker;

import iommu.api.DeviceAssignment;

/**
 * DESIGN invariant 6: each bundle of the platform stopped and started while
 * eight threads attach and detach; afterwards every acknowledged attach and
 * detach holds and the audit passes. While a bundle is down, operations may
 * fail, each with one clear line; nothing else may.
 */
class BundleRestartTest {

    @InjectBundleContext
    BundleContext context;
    @InjectService
    ConfigurationAdmin cm;

    ServiceTracker<DeviceAssignment, DeviceAssignment> tracker;

    @BeforeEach
    void open() throws Exception {
        tracker = new ServiceTracker<>(context, DeviceAssignment.class, null);
        tracker.open();
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
        // refusals while the bundle was down are one clear line each
        assertThat(load.errors()).allSatisfy(e -> assertThat(e).doesNotContain("\n").doesNotContain("Exception"));
        assertThat(Workload.platformView(assignment)).as("after restarting %s", bsn).isEqualTo(load.attached());
        assertThat(assignment.audit()).isEmpty();
    }
}
