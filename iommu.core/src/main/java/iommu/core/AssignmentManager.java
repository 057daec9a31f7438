package iommu.core;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
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
import iommu.api.PciAddress;
import iommu.api.RenumberingListener;
import iommu.api.RenumberingProgress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.IommuUnit;
import iommu.core.assign.AllocationCounters;
import iommu.core.assign.Attachments;
import iommu.core.assign.CurrentAssignments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.HostDomain;
import iommu.core.assign.GuestPages;
import iommu.core.assign.Listings;
import iommu.core.assign.OneLine;
import iommu.core.assign.Operations;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;
import iommu.core.audit.Audit;
import iommu.core.recovery.Reconciliation;
import iommu.core.recovery.StateStore;
import iommu.core.recovery.Storage;
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

    private final OperationLock lock;
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
    private final CoreConfig configured;
    private final HostDomain host;
    private final DeviceQuarantine quarantined;
    private final FlushService flush;

    /**
     * Outside a framework (tests): no private snapshot, and the state
     * directory is not locked, as tests start "a new process" on a directory
     * without ending the old one.
     */
    public AssignmentManager(DomainIdTable table, FlushService flush, Logger log, CoreConfig config) {
        this(null, table, flush, log, config, Storage.FILES);
    }

    /** As above, the journal's writes going through {@code storage} (a test failing them: a full disk). */
    public AssignmentManager(DomainIdTable table, FlushService flush, Logger log, CoreConfig config,
            Storage storage) {
        this(null, table, flush, log, config, storage);
    }

    @Activate
    public AssignmentManager(BundleContext context, @Reference(name = "table") DomainIdTable table,
            @Reference(name = "flush") FlushService flush,
            @Reference(name = "log", service = LoggerFactory.class) Logger log, CoreConfig config) {
        this(context, table, flush, log, config, Storage.FILES);
    }

    private AssignmentManager(BundleContext context, DomainIdTable table, FlushService flush, Logger log,
            CoreConfig config, Storage storage) {
        File area = context == null ? null : context.getDataFile("journal");
        Path privateDirectory = area == null ? null : area.toPath();
        String frameworkId = context == null ? null : context.getProperty(Constants.FRAMEWORK_UUID);
        // the framework's components (launcher, VT-d units, core) share the state directory's lock
        String lockOwner = context == null ? null : "framework " + (frameworkId != null ? frameworkId : context);
        this.table = table;
        this.log = log;
        this.flush = flush;
        this.host = new HostDomain(HostDomain.Mode.parse(config.hostDomain()));
        this.quarantined = new DeviceQuarantine(DeviceQuarantine.Mode.parse(config.quarantine()));
        this.quarantine = new Quarantine(flush, counters, log);
        this.store = new StateStore(attachments, pages, new Reconciliation(table, flush, topology, attachments, pages,
                quarantined), log, privateDirectory, frameworkId, lockOwner, storage);
        Recorder recorder = store;
        Renumbering renumbering = new Renumbering(table, flush, topology, attachments, quarantine, recorder,
                this::tell, log);
        this.strategies = new StrategyBinding(topology,
                () -> CurrentAssignments.of(table, attachments, quarantine), renumbering, log, config.strategy());
        this.adoption = new UnitAdoption(table, flush, topology, attachments, pages, recorder, log);
        this.operations = new Operations(table, flush, topology, attachments, pages, quarantine, counters, recorder,
                host, quarantined);
        store.keepQuarantine(quarantined);
        this.listings = new Listings(table, topology, attachments, host, quarantined);
        this.unitChanges = new UnitChanges(topology, attachments, quarantine, strategies, adoption, store, host,
                quarantined, table, flush, log);
        this.lock = new OperationLock(config.operationWaitMillis());
        this.configured = config;
    }

    @Activate
    public void activate() {
        lock.always(() -> {
            table.clear();
            lock.active(true);
            for (IommuUnit unit : List.copyOf(topology.units())) {
                store.unitAdopted(adoption.adopt(unit));
            }
            topology.rebuildIndex();
            strategies.reselect();
            if (openState(configured, true)) {
                strategies.reopen();
            }
            topology.units().forEach(unitChanges::programHost);
            log.info("core active: {} units, {} attached devices, strategy {}", topology.units().size(),
                    attachments.size(), strategies.boundName().orElse("none (" + strategies.problem().orElse("") + ")"));
        });
    }

    @Modified
    public void modified(CoreConfig config) {
        lock.always(() -> {
            lock.waitAtMost(config.operationWaitMillis());
            strategies.request(config.strategy());
            strategies.reselect();
            if (openState(config, false)) {
                strategies.reopen();
            }
            quarantined.mode(DeviceQuarantine.Mode.parse(config.quarantine()));
            // a journal may have brought devices in quarantine: they leave the host domain
            topology.units().forEach(unitChanges::programHost);
            HostDomain.Mode mode = HostDomain.Mode.parse(config.hostDomain());
            if (mode != host.mode()) {
                host.mode(mode);
                unitChanges.redescribeAll();
                strategies.reopen();
                log.info("host domain now {}", mode);
            }
        });
    }

    private boolean openState(CoreConfig config, boolean activating) {
        return store.open(config.stateDirectory(), activating, config.rebuildTables());
    }

    @Deactivate
    public void deactivate() {
        lock.always(() -> {
            lock.active(false);
            store.deactivate();
        });
    }

    @Reference(name = "units", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void bindUnit(IommuUnit unit) {
        lock.always(() -> unitChanges.arrived(unit, lock.isActive()));
    }

    public void unbindUnit(IommuUnit unit) {
        lock.always(() -> unitChanges.departed(unit, lock.isActive()));
    }

    @Reference(name = "strategies", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void bindStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        lock.always(() -> {
            strategies.add(strategy, properties);
            if (lock.isActive()) {
                strategies.reselect();
            }
        });
    }

    public void updatedStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        bindStrategy(strategy, properties);
    }

    public void unbindStrategy(AllocationStrategy strategy) {
        lock.always(() -> {
            strategies.remove(strategy);
            if (lock.isActive()) {
                strategies.reselect();
            }
        });
    }

    @Reference(name = "renumberingListeners", cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void bindListener(RenumberingListener listener) {
        listeners.add(listener);
    }

    void unbindListener(RenumberingListener listener) {
        listeners.remove(listener);
    }

    /** Renumbering progress to every listener; one that fails is logged and the swap goes on. */
    private void tell(RenumberingProgress progress) {
        for (RenumberingListener l : listeners) {
            try {
                l.progress(progress);
            } catch (RuntimeException e) {
                log.warn("renumbering listener {} failed: {}", l, OneLine.of(e));
            }
        }
    }

    @Override
    public GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory) {
        Operations.requireGuest(guest);
        Set<PciAddress> wanted = Operations.distinct(devices);
        return lock.call(() -> {
            quarantine.retry(strategies.allocator(), topology.unitIds());
            operations.attach(strategies.requireAllocator(), guest, wanted, allowReservedMemory);
            return listings.guest(guest);
        });
    }

    @Override
    public void detach(List<PciAddress> devices) {
        Set<PciAddress> wanted = Operations.distinct(devices);
        lock.run(() -> {
            quarantine.retry(strategies.allocator(), topology.unitIds());
            operations.detach(strategies.allocator(), wanted);
        });
    }

    @Override
    public void release(List<PciAddress> devices) {
        Set<PciAddress> wanted = Operations.distinct(devices);
        lock.run(() -> operations.release(wanted));
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pageCount) {
        Operations.requireGuest(guest);
        GuestMappings.checkRange(iova, pageCount);
        GuestMappings.checkRange(hostAddress, pageCount);
        lock.run(() -> operations.map(guest, iova, hostAddress, pageCount));
    }

    @Override
    public void unmap(GuestId guest, long iova, long pageCount) {
        Operations.requireGuest(guest);
        GuestMappings.checkRange(iova, pageCount);
        lock.run(() -> operations.unmap(guest, iova, pageCount));
    }

    @Override
    public List<GuestDTO> guests() {
        return lock.call(listings::guests);
    }

    @Override
    public Optional<GuestDTO> guest(GuestId guest) {
        return lock.call(() -> listings.guestIfAny(guest));
    }

    @Override
    public List<DeviceDTO> devices() {
        return lock.call(listings::devices);
    }

    @Override
    public List<GroupDTO> groups() {
        return lock.call(listings::groups);
    }

    @Override
    public List<UnitDTO> units() {
        return lock.call(listings::units);
    }

    @Override
    public StateDTO state() {
        return lock.call(store::report);
    }

    @Override
    public Map<String, Map<String, Long>> allocationCounts() {
        return lock.call(() -> counters.snapshot(topology.describedUnits()));
    }

    @Override
    public List<String> audit() {
        return lock.call(() -> Audit.of(topology, attachments, table, pages, quarantine, host, quarantined, new Audit.Strategy(
                strategies.boundName().orElse(null), strategies.allocator(), strategies.problem().orElse(null))));
    }

    @Override
    public Optional<String> strategy() {
        return lock.always(strategies::boundName);
    }

    @Override
    public String requestedStrategy() {
        return lock.always(strategies::requested);
    }

    @Override
    public Optional<String> strategyProblem() {
        return lock.always(strategies::problem);
    }
}
