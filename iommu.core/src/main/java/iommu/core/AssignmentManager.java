package iommu.core;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import iommu.api.DeviceAssignment;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.RenumberingListener;
import iommu.api.RenumberingProgress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.AllocationCounters;
import iommu.core.assign.Attachments;
import iommu.core.assign.CurrentAssignments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestPages;
import iommu.core.assign.Listings;
import iommu.core.assign.Operations;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Topology;
import iommu.core.audit.Audit;
import iommu.core.recovery.Reconciliation;
import iommu.core.recovery.StateStore;
import iommu.core.recovery.UnitAdoption;
import iommu.core.strategy.Renumbering;
import iommu.core.strategy.StrategyBinding;

/**
 * The device assignment service: its references, its configuration, and the
 * one fair lock that serializes every change (attach, detach, map, unmap,
 * units coming and going, strategy swaps). Callers wait for the lock at most
 * {@link CoreConfig#operationWaitMillis()}. Every decision is its
 * collaborators', plain classes called under this lock: the topology and the
 * attachments, the operations, the quarantine, the strategy binding and its
 * renumbering, the state store and its recovery, the audit.
 *
 * <p>The units' context entries are the record of what is attached: on
 * activation, and whenever a unit appears, they are read back
 * ({@link UnitAdoption}), so a restart of this bundle, of the flush bundle or
 * of a strategy loses nothing.
 */
@Component(configurationPid = CoreConfig.PID)
@Designate(ocd = CoreConfig.class)
public class AssignmentManager implements DeviceAssignment {

    private final ReentrantLock lock = new ReentrantLock(true);
    private final Logger log;
    private final DomainIdTable table;
    private final List<RenumberingListener> listeners = new CopyOnWriteArrayList<>();
    // guarded by lock, as is all their state
    private final Topology topology = new Topology();
    private final Attachments attachments = new Attachments();
    private final GuestPages pages = new GuestPages();
    private final AllocationCounters counters = new AllocationCounters();
    private final Quarantine quarantine;
    private final StrategyBinding strategies;
    private final StateStore store;
    private final UnitAdoption adoption;
    private final Operations operations;
    private final Listings listings;
    private final UnitChanges unitChanges;
    private String configuredStateDirectory;
    private long waitMillis;
    private boolean active;

    /** Outside a framework (tests): no private snapshot. */
    public AssignmentManager(DomainIdTable table, FlushService flush, Logger log, CoreConfig config) {
        this(null, table, flush, log, config);
    }

    @Activate
    public AssignmentManager(BundleContext context, @Reference(name = "table") DomainIdTable table,
            @Reference(name = "flush") FlushService flush,
            @Reference(name = "log", service = LoggerFactory.class) Logger log, CoreConfig config) {
        File area = context == null ? null : context.getDataFile("journal");
        Path privateDirectory = area == null ? null : area.toPath();
        String frameworkId = context == null ? null : context.getProperty(Constants.FRAMEWORK_UUID);
        this.table = table;
        this.log = log;
        this.quarantine = new Quarantine(flush, counters, log);
        this.store = new StateStore(attachments, pages, new Reconciliation(table, flush, topology, attachments, pages),
                log, privateDirectory, frameworkId);
        Supplier<iommu.core.assign.Recorder> recorder = () -> store;
        Renumbering renumbering = new Renumbering(table, flush, topology, attachments, quarantine, recorder,
                this::tell, log);
        this.strategies = new StrategyBinding(topology,
                () -> CurrentAssignments.of(table, attachments, quarantine), renumbering, log, config.strategy());
        this.adoption = new UnitAdoption(table, flush, topology, attachments, pages, recorder, log);
        this.operations = new Operations(table, flush, topology, attachments, pages, quarantine, counters, recorder);
        this.listings = new Listings(table, topology, attachments);
        this.unitChanges = new UnitChanges(topology, attachments, quarantine, strategies, adoption, store, log);
        this.waitMillis = config.operationWaitMillis();
        this.configuredStateDirectory = config.stateDirectory();
    }

    @Activate
    public void activate() {
        lock.lock();
        try {
            table.clear();
            active = true;
            for (IommuUnit unit : List.copyOf(topology.units())) {
                store.unitProblems(adoption.adopt(unit).problems());
            }
            topology.rebuildIndex();
            strategies.reselect();
            if (store.open(configuredStateDirectory, true)) {
                strategies.reopen();
            }
            log.info("core active: {} units, {} attached devices, strategy {}", topology.units().size(),
                    attachments.size(), strategies.boundName().orElse("none (" + strategies.problem().orElse("") + ")"));
        } finally {
            lock.unlock();
        }
    }

    @Modified
    public void modified(CoreConfig config) {
        lock.lock();
        try {
            waitMillis = config.operationWaitMillis();
            strategies.request(config.strategy());
            strategies.reselect();
            if (store.open(config.stateDirectory(), false)) {
                strategies.reopen();
            }
        } finally {
            lock.unlock();
        }
    }

    @Deactivate
    public void deactivate() {
        lock.lock();
        try {
            active = false;
            store.deactivate();
        } finally {
            lock.unlock();
        }
    }

    @Reference(name = "units", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void bindUnit(IommuUnit unit) {
        lock.lock();
        try {
            unitChanges.arrived(unit, active);
        } finally {
            lock.unlock();
        }
    }

    public void unbindUnit(IommuUnit unit) {
        lock.lock();
        try {
            unitChanges.departed(unit, active);
        } finally {
            lock.unlock();
        }
    }

    @Reference(name = "strategies", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void bindStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        lock.lock();
        try {
            strategies.add(strategy, properties);
            if (active) {
                strategies.reselect();
            }
        } finally {
            lock.unlock();
        }
    }

    public void updatedStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        bindStrategy(strategy, properties);
    }

    public void unbindStrategy(AllocationStrategy strategy) {
        lock.lock();
        try {
            strategies.remove(strategy);
            if (active) {
                strategies.reselect();
            }
        } finally {
            lock.unlock();
        }
    }

    @Reference(name = "renumberingListeners", cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindListener(RenumberingListener listener) {
        listeners.add(listener);
    }

    void unbindListener(RenumberingListener listener) {
        listeners.remove(listener);
    }

    private void tell(RenumberingProgress progress) {
        for (RenumberingListener l : listeners) {
            try {
                l.progress(progress);
            } catch (RuntimeException e) {
                log.warn("renumbering listener {} failed: {}", l, iommu.core.assign.OneLine.of(e));
            }
        }
    }

    @Override
    public GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory) {
        Operations.requireGuest(guest);
        Set<PciAddress> wanted = Operations.distinct(devices);
        return locked(() -> {
            quarantine.retry(strategies.allocator(), topology.unitIds());
            operations.attach(strategies.requireAllocator(), guest, wanted, allowReservedMemory);
            return listings.guest(guest);
        });
    }

    @Override
    public void detach(List<PciAddress> devices) {
        Set<PciAddress> wanted = Operations.distinct(devices);
        locked(() -> {
            quarantine.retry(strategies.allocator(), topology.unitIds());
            operations.detach(strategies.allocator(), wanted);
            return null;
        });
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pageCount) {
        Operations.requireGuest(guest);
        iommu.core.assign.GuestMappings.checkRange(iova, pageCount);
        iommu.core.assign.GuestMappings.checkRange(hostAddress, pageCount);
        locked(() -> {
            operations.map(guest, iova, hostAddress, pageCount);
            return null;
        });
    }

    @Override
    public void unmap(GuestId guest, long iova, long pageCount) {
        Operations.requireGuest(guest);
        iommu.core.assign.GuestMappings.checkRange(iova, pageCount);
        locked(() -> {
            operations.unmap(guest, iova, pageCount);
            return null;
        });
    }

    @Override
    public List<GuestDTO> guests() {
        return locked(listings::guests);
    }

    @Override
    public Optional<GuestDTO> guest(GuestId guest) {
        return locked(() -> listings.guestIfAny(guest));
    }

    @Override
    public List<DeviceDTO> devices() {
        return locked(listings::devices);
    }

    @Override
    public List<UnitDTO> units() {
        return locked(listings::units);
    }

    @Override
    public StateDTO state() {
        return locked(store::report);
    }

    @Override
    public Map<String, Map<String, Long>> allocationCounts() {
        return locked(() -> counters.snapshot(topology.describedUnits()));
    }

    @Override
    public List<String> audit() {
        return locked(() -> Audit.of(topology, attachments, table, quarantine, new Audit.Strategy(
                strategies.boundName().orElse(null), strategies.allocator(), strategies.problem().orElse(null))));
    }

    @Override
    public Optional<String> strategy() {
        return unchecked(strategies::boundName);
    }

    @Override
    public String requestedStrategy() {
        return unchecked(strategies::requested);
    }

    @Override
    public Optional<String> strategyProblem() {
        return unchecked(strategies::problem);
    }

    /** Under the lock, waiting for it at most the configured time, while active. */
    private <T> T locked(Supplier<T> operation) {
        boolean acquired;
        try {
            acquired = lock.tryLock(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IommuException("interrupted while waiting for another operation to finish");
        }
        if (!acquired) {
            throw new IommuException("timed out after " + waitMillis
                    + " ms waiting for another operation or a strategy swap to finish");
        }
        try {
            if (!active) {
                throw new IommuException("the device assignment service is stopping");
            }
            return operation.get();
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock, however long it takes and whether active or not (what the strategy is). */
    private <T> T unchecked(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }
}
