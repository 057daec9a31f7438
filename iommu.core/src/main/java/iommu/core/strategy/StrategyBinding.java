package iommu.core.strategy;

import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

import org.osgi.framework.Constants;
import org.osgi.service.log.Logger;

import iommu.api.CoreConfiguration;
import iommu.api.IommuException;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.assign.OneLine;
import iommu.core.assign.Topology;

/**
 * Which strategy is bound: the service whose name the configuration asks for
 * (the highest ranking, then the lowest service id, among services of that
 * name), opened over the units and the current assignments, its renumbering
 * applied. A strategy that refuses leaves the old one bound, with the reason
 * kept for {@link #problem()}. Not thread-safe; called under the component's lock.
 */
public final class StrategyBinding {

    /** A strategy service as bound, with what selects among services of the same name. */
    private record Entry(AllocationStrategy service, String name, int ranking, long serviceId) {
    }

    private final Topology topology;
    private final Supplier<List<Assignment>> assignments;
    private final Renumbering renumbering;
    private final Logger log;
    private final Map<AllocationStrategy, Entry> strategies = new LinkedHashMap<>();
    private Entry bound;
    private DomainIdAllocator allocator;
    private String requested;
    private String problem;

    public StrategyBinding(Topology topology, Supplier<List<Assignment>> assignments, Renumbering renumbering,
            Logger log, String requested) {
        this.topology = topology;
        this.assignments = assignments;
        this.renumbering = renumbering;
        this.log = log;
        this.requested = requested;
    }

    /** A strategy service appeared, or its properties changed. */
    public void add(AllocationStrategy strategy, Map<String, Object> properties) {
        strategies.put(strategy, entry(strategy, properties));
    }

    /** A strategy service went; when it was the bound one, assignments stay and attaches fail until another is. */
    public void remove(AllocationStrategy strategy) {
        strategies.remove(strategy);
        if (bound != null && bound.service() == strategy) {
            log.warn("strategy {} went away: assignments stay as they are; attaches fail until a strategy is bound",
                    bound.name());
            bound = null;
            allocator = null;
        }
    }

    /** The configuration asks for another strategy (or the same): bound by the next {@link #reselect()}. */
    public void request(String name) {
        requested = name;
    }

    /** Binds the requested strategy when it is present and accepts the current assignments; else keeps the old one. */
    public void reselect() {
        if (requested == null || requested.isBlank()) {
            problem = "configuration " + CoreConfiguration.PID + " names no strategy: expected one of " + names();
            return;
        }
        Optional<Entry> wanted = strategies.values().stream()
                .filter(e -> e.name().equals(requested))
                .max(Comparator.comparingInt(Entry::ranking)
                        .thenComparing(Comparator.comparingLong(Entry::serviceId).reversed()));
        if (wanted.isEmpty()) {
            problem = "strategy '" + requested + "' is not available: present are " + names()
                    + (bound == null ? "" : "; '" + bound.name() + "' stays bound");
            return;
        }
        if (bound != null && bound.service() == wanted.get().service()) {
            problem = null;
            return;
        }
        try {
            DomainIdAllocator opened = open(wanted.get());
            String previous = bound == null ? null : bound.name();
            bound = wanted.get();
            allocator = opened;
            problem = null;
            log.info("strategy {} bound{}", requested, previous == null ? "" : " in place of " + previous);
        } catch (RuntimeException e) {
            problem = "strategy '" + requested + "' refused: " + OneLine.of(e)
                    + (bound == null ? "" : "; '" + bound.name() + "' stays bound");
            log.warn(problem);
        }
    }

    /** The units or the assignments changed beyond what the allocator was told: it is opened again, as on binding. */
    public void reopen() {
        if (bound == null) {
            reselect();
            return;
        }
        try {
            allocator = open(bound);
        } catch (RuntimeException e) {
            problem = "strategy '" + bound.name() + "' cannot hold the assignments after a unit change: "
                    + OneLine.of(e);
            log.error(problem);
            bound = null;
            allocator = null;
        }
    }

    /**
     * Opens the strategy over the units it can be told of, with their
     * assignments (a unit the journal names that is not here yet is not one:
     * the allocator learns it, and its ids, when it comes), and applies its
     * renumbering.
     */
    private DomainIdAllocator open(Entry entry) {
        Collection<UnitDescriptor> units = topology.descriptors();
        Set<String> described = topology.describedUnits();
        List<Assignment> current = assignments.get().stream().filter(a -> described.contains(a.unitId())).toList();
        DomainIdAllocator opened = entry.service().open(units, current);
        renumbering.apply(entry.name(), opened);
        return opened;
    }

    /** The bound strategy's allocator, or null while none is bound. */
    public DomainIdAllocator allocator() {
        return allocator;
    }

    /** The bound strategy's allocator, else a clear error. */
    public DomainIdAllocator requireAllocator() {
        if (allocator == null) {
            throw new IommuException("no allocation strategy bound: "
                    + (problem == null ? "strategy '" + requested + "' is not available" : problem));
        }
        return allocator;
    }

    public Optional<String> boundName() {
        return bound == null ? Optional.empty() : Optional.of(bound.name());
    }

    public String requested() {
        return requested;
    }

    public Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    private List<String> names() {
        return strategies.values().stream().map(Entry::name).distinct().sorted().toList();
    }

    private static Entry entry(AllocationStrategy strategy, Map<String, Object> properties) {
        Object name = properties.get(AllocationStrategy.NAME);
        Object ranking = properties.get(Constants.SERVICE_RANKING);
        Object id = properties.get(Constants.SERVICE_ID);
        return new Entry(strategy, name == null ? strategy.name() : String.valueOf(name),
                ranking instanceof Integer r ? r : 0, id instanceof Long l ? l : 0L);
    }
}
