package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import iommu.api.IommuException;

class StrategySwitchTest {

    private final FakeAssignment core = new FakeAssignment();
    /** Strategies the fake core accepts; others it refuses with a problem. */
    private Set<String> accepted = Set.of("per-unit", "global");
    private Dictionary<String, Object> stored;
    private int updates;

    private final Configuration config = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getProperties" -> stored == null ? null : copy(stored);
                case "update" -> {
                    @SuppressWarnings("unchecked")
                    Dictionary<String, Object> p = (Dictionary<String, Object>) args[0];
                    stored = copy(p);
                    updates++;
                    apply();
                    yield null;
                }
                case "getPid" -> "iommu.core";
                default -> throw new UnsupportedOperationException(method.getName());
            });

    private final ConfigurationAdmin ca = (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> switch (method.getName()) {
                case "getConfiguration" -> config;
                case "listConfigurations" -> stored == null ? null : new Configuration[] {config};
                default -> throw new UnsupportedOperationException(method.getName());
            });

    private static Dictionary<String, Object> copy(Dictionary<String, Object> d) {
        Hashtable<String, Object> c = new Hashtable<>();
        for (var e = d.keys(); e.hasMoreElements();) {
            String k = e.nextElement();
            c.put(k, d.get(k));
        }
        return c;
    }

    /** What iommu.core does with its configuration, asynchronously. */
    private void apply() {
        Object s = stored.get("strategy");
        String name = s == null ? "per-unit" : s.toString();
        new Thread(() -> {
            StrategySwitch.sleep(30);
            core.requested = name;
            if (accepted.contains(name)) {
                core.bound = name;
                core.problem = null;
            } else {
                core.problem = "strategy '" + name + "' refused: 300 guests do not fit 255 shared domain ids";
            }
        }).start();
    }

    private StrategySwitch sw(Duration timeout) {
        return new StrategySwitch(core::api, () -> List.of("per-unit", "global"), () -> ca, timeout);
    }

    @Test
    void switchWritesTheConfigurationAndWaitsUntilBound() {
        assertThat(sw(Duration.ofSeconds(5)).switchTo("global")).isEqualTo("global");
        assertThat(core.bound).isEqualTo("global");
        assertThat(stored.get("strategy")).isEqualTo("global");
    }

    @Test
    void unknownNameChangesNothingAndListsTheAvailableOnes() {
        assertThatThrownBy(() -> sw(Duration.ofSeconds(5)).switchTo("random"))
                .isInstanceOf(StrategySwitch.UnknownStrategyException.class)
                .hasMessage("unknown strategy 'random': expected one of global, per-unit");
        assertThat(updates).isZero();
    }

    @Test
    void alreadyBoundIsANoOp() {
        assertThat(sw(Duration.ofSeconds(5)).switchTo("per-unit")).isEqualTo("per-unit");
        assertThat(updates).isZero();
    }

    @Test
    void refusalIsReportedWithTheCoresReasonAndTheConfigurationRestored() {
        accepted = Set.of("per-unit");
        long start = System.nanoTime();
        assertThatThrownBy(() -> sw(Duration.ofSeconds(5)).switchTo("global"))
                .isInstanceOf(IommuException.class)
                .hasMessageStartingWith("strategy 'global' refused: 300 guests do not fit")
                .hasMessageContaining("still bound to 'per-unit'")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        // the refusal was seen, not waited out
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(stored.get("strategy")).isNull();
        assertThat(core.bound).isEqualTo("per-unit");
    }

    @Test
    void silenceIsReportedAfterTheTimeout() {
        assertThatThrownBy(() -> new StrategySwitch(core::api, () -> List.of("per-unit", "global"),
                this::caIgnoringUpdates, Duration.ofMillis(300)).switchTo("global"))
                .isInstanceOf(IommuException.class)
                .hasMessage("iommu.core did not bind strategy 'global' within 300 ms"
                        + " (still bound to 'per-unit'; configuration iommu.core restored)");
    }

    private ConfigurationAdmin caIgnoringUpdates() {
        Configuration c = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getProperties" -> new Hashtable<String, Object>();
                    case "update" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getConfiguration" -> c;
                    case "listConfigurations" -> null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
