package iommu.core;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Constants;
import org.osgi.service.log.Logger;

import iommu.core.assign.DomainIdTable;
import iommu.api.spi.AllocationStrategy;

/** Builds an assignment manager the way SCR would: constructor, binds, activate. */
public final class Fixture {
    final List<String> events = Collections.synchronizedList(new ArrayList<>());
    final DomainIdTable table = new DomainIdTable();
    final RecordingFlush flush = new RecordingFlush(events);
    private long nextServiceId = 100;

    public static Logger silentLogger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> method.getReturnType() == boolean.class ? false : null);
    }

    static CoreConfig config(String strategy) {
        return config(strategy, "");
    }

    /** Without a host domain (the seed's accounting), which most tests of other things count on. */
    static CoreConfig config(String strategy, String stateDirectory) {
        return config(strategy, stateDirectory, "none");
    }

    static CoreConfig config(String strategy, String stateDirectory, boolean rebuildTables) {
        return config(strategy, stateDirectory, "none", "none", rebuildTables);
    }

    static CoreConfig config(String strategy, String stateDirectory, String hostDomain) {
        return config(strategy, stateDirectory, hostDomain, "none");
    }

    static CoreConfig config(String strategy, String stateDirectory, String hostDomain, String quarantine) {
        return config(strategy, stateDirectory, hostDomain, quarantine, false);
    }

    static CoreConfig config(String strategy, String stateDirectory, String hostDomain, String quarantine,
            boolean rebuildTables) {
        return new CoreConfig() {
            @Override public Class<? extends Annotation> annotationType() { return CoreConfig.class; }
            @Override public String strategy() { return strategy; }
            @Override public long operationWaitMillis() { return 2000; }
            @Override public String stateDirectory() { return stateDirectory; }
            @Override public String hostDomain() { return hostDomain; }
            @Override public String quarantine() { return quarantine; }
            @Override public boolean rebuildTables() { return rebuildTables; }
        };
    }

    AssignmentManager manager(String strategy, List<TestUnit> units, AllocationStrategy... strategies) {
        return manager(config(strategy), units, strategies);
    }

    AssignmentManager manager(CoreConfig config, List<TestUnit> units, AllocationStrategy... strategies) {
        AssignmentManager m = new AssignmentManager(table, flush, silentLogger(), config);
        units.forEach(m::bindUnit);
        for (AllocationStrategy s : strategies) {
            bind(m, s);
        }
        m.activate();
        return m;
    }

    void bind(AssignmentManager m, AllocationStrategy s) {
        m.bindStrategy(s, Map.of(AllocationStrategy.NAME, s.name(), Constants.SERVICE_ID, nextServiceId++));
    }
}
