package iommu.bench;

import java.lang.annotation.Annotation;
import java.lang.reflect.Proxy;
import java.util.Collection;
import java.util.Map;

import org.osgi.service.log.Logger;

import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.IommuUnit;
import iommu.core.AssignmentManager;
import iommu.core.CoreConfig;
import iommu.core.assign.DomainIdTable;

/**
 * The benchmarks build the core on the plain class path (no framework) the way
 * SCR does: its public constructor and lifecycle methods, and the map's
 * writers, public in the bundle's private packages (no other bundle sees
 * them). Calls exactly what the core itself calls.
 */
public final class CoreRig {

    private CoreRig() {
    }

    /** {@link DomainIdTable#put}, as the core records a newly allocated domain id. */
    public static void put(DomainIdTable table, GuestId guest, String unitId, DomainId did) {
        table.put(guest, unitId, did);
    }

    /** {@link DomainIdTable#remove}, as the core forgets a domain id before releasing it. */
    public static void remove(DomainIdTable table, GuestId guest, String unitId, DomainId did) {
        table.remove(guest, unitId, did);
    }

    public static int usedOn(DomainIdTable table, String unitId) {
        return table.usedOn(unitId);
    }

    /** A logger that drops everything, as a framework's would with logging off. */
    public static Logger silentLogger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> method.getReturnType() == boolean.class ? false : null);
    }

    /**
     * An assignment manager built the way SCR builds it (constructor, unit and
     * strategy binds, activate), with the strategy bound as its configuration
     * names it.
     */
    public static AssignmentManager manager(DomainIdTable table, FlushService flush,
            Collection<? extends IommuUnit> units, AllocationStrategy strategy) {
        AssignmentManager m = new AssignmentManager(table, flush, silentLogger(), config(strategy.name(), ""));
        units.forEach(m::bindUnit);
        m.bindStrategy(strategy, Map.of(AllocationStrategy.NAME, strategy.name(), "service.id", 100L));
        m.activate();
        return m;
    }

    /**
     * Makes the manager durable from now on, as a configuration update naming a
     * state directory does: it writes a snapshot of its state there, then forces
     * a journal record to disk before each change is acknowledged.
     */
    public static void useStateDirectory(AssignmentManager m, String strategy, String directory) {
        m.modified(config(strategy, directory));
    }

    /** Another strategy service appears, as SCR binds it to the manager's dynamic reference. */
    public static void bindStrategy(AssignmentManager m, AllocationStrategy strategy, long serviceId) {
        m.bindStrategy(strategy, Map.of(AllocationStrategy.NAME, strategy.name(), "service.id", serviceId));
    }

    /** Deactivates the manager as SCR would, closing its journal. */
    public static void deactivate(AssignmentManager m) {
        m.deactivate();
    }

    private static CoreConfig config(String strategy, String stateDirectory) {
        return new CoreConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return CoreConfig.class;
            }

            @Override
            public String quarantine() {
                return "none";
            }

            @Override
            public String hostDomain() {
                return "none"; // the benchmarks measure guests' ids alone, as the seed counted them
            }

            @Override
            public String strategy() {
                return strategy;
            }

            @Override
            public long operationWaitMillis() {
                return 30_000;
            }

            @Override
            public boolean rebuildTables() {
                return false;
            }

            @Override
            public String stateDirectory() {
                return stateDirectory;
            }
        };
    }
}
