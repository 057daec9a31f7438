package iommu.console;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentContext;

import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.PlatformDiscovery;

/** The strategy and discovery services as the commands list them, from the component's references. */
final class Registry {

    private Registry() {
    }

    /** Every strategy service, by name, highest ranking first; empty outside a framework. */
    static List<IommuCommands.StrategyService> strategies(ComponentContext cc,
            List<ServiceReference<AllocationStrategy>> refs) {
        List<IommuCommands.StrategyService> out = new ArrayList<>();
        if (cc == null) {
            return out;
        }
        for (ServiceReference<AllocationStrategy> ref : refs) {
            AllocationStrategy s = (AllocationStrategy) cc.locateService("strategies", ref);
            if (s == null) {
                continue;
            }
            Object name = ref.getProperty(AllocationStrategy.NAME);
            Object ranking = ref.getProperty(Constants.SERVICE_RANKING);
            String bundle = ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName();
            out.add(new IommuCommands.StrategyService(name == null ? s.name() : String.valueOf(name), bundle,
                    ranking instanceof Integer r ? r : 0, s));
        }
        out.sort(Comparator.comparing(IommuCommands.StrategyService::name)
                .thenComparing(IommuCommands.StrategyService::ranking, Comparator.reverseOrder()));
        return out;
    }

    /** Every discovery service, highest ranking first, then lowest service id; empty outside a framework. */
    static List<PlatformDiscovery> discoveries(ComponentContext cc, List<ServiceReference<PlatformDiscovery>> refs) {
        List<PlatformDiscovery> out = new ArrayList<>();
        if (cc == null) {
            return out;
        }
        List<ServiceReference<PlatformDiscovery>> sorted = new ArrayList<>(refs);
        sorted.sort(Collections.reverseOrder());
        for (ServiceReference<PlatformDiscovery> ref : sorted) {
            PlatformDiscovery d = (PlatformDiscovery) cc.locateService("discoveries", ref);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }
}
