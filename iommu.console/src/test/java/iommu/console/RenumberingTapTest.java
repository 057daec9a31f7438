package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.RenumberingProgress;

/** A swap's progress reaches the console as a listener service, not from the core's log. */
class RenumberingTapTest {

    @Test
    void reportsBecomeTheStatusLinesTheLogGave() {
        List<String> lines = new ArrayList<>();
        try (RenumberingTap tap = RenumberingTap.open(null, lines::add)) {
            tap.progress(new RenumberingProgress("global", 3, 0, 1200));
            tap.progress(new RenumberingProgress("global", 3, 120, 1200));
            tap.progress(new RenumberingProgress("global", 3, 1200, 1200));
        }
        assertThat(lines).containsExactly("strategy global: renumbering 3 domain ids over 1200 devices",
                "strategy global: renumbering: 120 of 1200 context entries written",
                "strategy global: renumbering: 1200 of 1200 context entries written");
    }

    @Test
    void isRegisteredForTheSwapOnlyAsARenumberingListener() {
        List<String> calls = new ArrayList<>();
        org.osgi.framework.ServiceRegistration<?> reg = Fakes.proxy(org.osgi.framework.ServiceRegistration.class,
                new Object() {
                    public void unregister() {
                        calls.add("unregister");
                    }
                });
        org.osgi.framework.BundleContext context = Fakes.proxy(org.osgi.framework.BundleContext.class, new Object() {
            public org.osgi.framework.ServiceRegistration<?> registerService(Class<?> type, Object service,
                    java.util.Dictionary<String, ?> props) {
                calls.add("register " + type.getName());
                return reg;
            }
        });
        try (RenumberingTap tap = RenumberingTap.open(context, s -> { })) {
            assertThat(calls).containsExactly("register iommu.api.RenumberingListener");
        }
        assertThat(calls).containsExactly("register iommu.api.RenumberingListener", "unregister");
    }
}
