package iommu.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;

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

import iommu.api.ContextChange;
import iommu.api.DeviceAssignment;
import iommu.api.DomainId;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.UnitDescriptor;
import iommu.core.assign.Attachment;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.UndoLog;
import iommu.core.recovery.Journal;

/**
 * Attaches devices to guests. The domain id comes from the bound strategy's
 * allocator for the device's own unit, is shared by all of the guest's
 * devices on that unit, and goes back only after the guest's last device
 * there was detached and the unit's caches were invalidated.
 *
 * <p>The units' context entries are the record of what is attached: on
 * activation, and whenever a unit appears, the manager reads them back, so a
 * restart of this bundle, of the flush bundle or of a strategy loses nothing.
 * Units that go away keep their devices' records; when a unit with the same
 * id returns, its context entries are written again.
 *
 * <p>One lock serializes every change (attach, detach, units coming and
 * going, strategy swaps); callers wait for it at most
 * {@link CoreConfig#operationWaitMillis()}.
 */
@Component(configurationPid = CoreConfig.PID)
@Designate(ocd = CoreConfig.class)
public class AssignmentManager implements DeviceAssignment {

    /** A strategy service as bound, with what selects among services of the same name. */
    private record StrategyEntry(AllocationStrategy service, String name, int ranking, long serviceId) {
    }

    private record Bound(StrategyEntry entry, DomainIdAllocator allocator) {
    }

    private final DomainIdTable table;
    private final FlushService flush;
    private final Logger log;
    private final ReentrantLock lock = new ReentrantLock(true);

    // guarded by lock
    private final Map<String, IommuUnit> units = new TreeMap<>();
    private final Map<String, UnitDescriptor> descriptors = new TreeMap<>();
    private final Map<PciAddress, String> deviceIndex = new TreeMap<>();
    private final Map<PciAddress, ScopeMatch> indexStrength = new HashMap<>();
    private final Map<String, Set<PciAddress>> indexByUnit = new HashMap<>();
    private final Map<String, Set<PciAddress>> attachedByUnit = new HashMap<>();
    private final Map<PciAddress, Attachment> attachments = new TreeMap<>();
    private final Map<GuestId, Map<String, Set<PciAddress>>> devicesByGuest = new TreeMap<>();
    /** Domain ids whose invalidation failed: held by no device, kept out of use until a flush succeeds. */
    private final Map<String, Map<DomainId, GuestId>> quarantine = new TreeMap<>();
    private final Map<GuestId, GuestMappings> mappings = new HashMap<>();
    /** unit id -> counter name -> count, for DeviceAssignment.allocationCounts(). */
    private final Map<String, Map<String, Long>> counters = new TreeMap<>();
    private final Map<AllocationStrategy, StrategyEntry> strategies = new LinkedHashMap<>();
    private Bound bound;
    /** Null while state is ephemeral. */
    private Journal journal;
    /** Where an ephemeral core keeps its state across a restart of its bundle; null outside a framework. */
    private final java.nio.file.Path privateDirectory;
    /** The framework's launch id: a snapshot of another launch is not read. */
    private final String frameworkId;
    private String stateDirectory = "";
    private String configuredStateDirectory;
    private int restored;
    private List<String> recoveryProblems = List.of();
    /** Where a unit's kept tables and this manager's records disagreed when the unit came (bounded). */
    private final List<String> unitProblems = new ArrayList<>();
    private String requested;
    private String problem;
    private long waitMillis;
    private boolean active;

    /** Outside a framework (tests): no private journal. */
    public AssignmentManager(DomainIdTable table, FlushService flush, Logger log, CoreConfig config) {
        this(null, table, flush, log, config);
    }

    @Activate
    public AssignmentManager(org.osgi.framework.BundleContext context, @Reference(name = "table") DomainIdTable table,
            @Reference(name = "flush") FlushService flush,
            @Reference(name = "log", service = LoggerFactory.class) Logger log, CoreConfig config) {
        java.io.File area = context == null ? null : context.getDataFile("journal");
        this.privateDirectory = area == null ? null : area.toPath();
        this.frameworkId = context == null ? null : context.getProperty(Constants.FRAMEWORK_UUID);
        this.table = table;
        this.flush = flush;
        this.log = log;
        this.requested = config.strategy();
        this.waitMillis = config.operationWaitMillis();
        this.configuredStateDirectory = config.stateDirectory();
    }

    @Activate
    void activate() {
        lock.lock();
        try {
            table.clear();
            active = true;
            for (IommuUnit unit : List.copyOf(units.values())) {
                adopt(unit);
            }
            rebuildDeviceIndex();
            reselect();
            openState(configuredStateDirectory, true);
            log.info("core active: {} units, {} attached devices, strategy {}", units.size(), attachments.size(),
                    bound == null ? "none (" + problem + ")" : bound.entry().name());
        } finally {
            lock.unlock();
        }
    }

    @Modified
    void modified(CoreConfig config) {
        lock.lock();
        try {
            waitMillis = config.operationWaitMillis();
            requested = config.strategy();
            reselect();
            openState(config.stateDirectory(), false);
        } finally {
            lock.unlock();
        }
    }

    @Deactivate
    void deactivate() {
        lock.lock();
        try {
            active = false;
            if (stateDirectory.isEmpty()) {
                saveSnapshot();
            }
            closeJournal();
            stateDirectory = "";
        } finally {
            lock.unlock();
        }
    }

    // ---- units

    @Reference(name = "units", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindUnit(IommuUnit unit) {
        lock.lock();
        try {
            IommuUnit previous = units.get(unit.id());
            if (previous != null && previous != unit) {
                log.error("a second unit with id {} appeared ({} at 0x{}); it is ignored while the first is present",
                        unit.id(), unit.vendor(), Long.toHexString(unit.registerBase()));
                return;
            }
            UnitDescriptor known = descriptors.get(unit.id()); // it left with devices attached, or the journal named it
            UnitDescriptor descriptor = UnitDescriptor.of(unit);
            units.put(unit.id(), unit);
            descriptors.put(unit.id(), descriptor);
            if (active) {
                boolean adopted = adopt(unit);
                indexUnit(unit);
                boolean allocatorKnowsIt = known != null;
                if (adopted || bound == null || (allocatorKnowsIt && !known.equals(descriptor))) {
                    // new entries, or the unit is not what the allocator was told (a journal's guess)
                    reopenAllocator();
                } else if (!allocatorKnowsIt) {
                    bound.allocator().addUnit(descriptors.get(unit.id()));
                }
            }
        } finally {
            lock.unlock();
        }
    }

    void unbindUnit(IommuUnit unit) {
        lock.lock();
        try {
            if (!units.remove(unit.id(), unit)) {
                return;
            }
            int attached = attachedByUnit.getOrDefault(unit.id(), Set.of()).size();
            if (attached == 0 && !quarantine.containsKey(unit.id())) {
                descriptors.remove(unit.id());
                if (bound != null) {
                    bound.allocator().removeUnit(unit.id());
                }
            } else {
                log.warn("unit {} went away with {} attached devices: their assignments are kept and written again "
                        + "when the unit returns", unit.id(), attached);
            }
            if (active) {
                unindexUnit(unit.id());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Makes the unit's context entries and this manager's records agree: records
     * of the unit (it came back) are written again, and present entries nobody
     * recorded (this manager restarted) are adopted. An entry that conflicts
     * with the map is cleared, and the device returns to the host.
     *
     * @return whether entries were adopted, so the allocator must learn them
     */
    private boolean adopt(IommuUnit unit) {
        String unitId = unit.id();
        boolean adoptedAny = false;
        Set<GuestId> adoptedGuests = new TreeSet<>();
        for (PciAddress device : List.copyOf(attachedByUnit.getOrDefault(unitId, Set.of()))) {
            Attachment a = attachments.get(device);
            Optional<DeviceContext> now = unit.context(a.device());
            if (now.isPresent() && now.get().equals(a.context())) {
                continue;
            }
            if (unit.inheritedTables()) {
                unitProblem("unit " + unitId + ": its kept tables " + now.map(c -> "give " + a.device() + " to guest "
                        + c.guest() + " with domain id " + c.domainId()).orElse("do not have " + a.device())
                        + "; the platform's record (guest " + a.guest() + ", domain id " + a.domainId()
                        + ") written again");
            }
            try {
                unit.setContext(a.device(), a.context());
                flush.flushDeviceContext(unitId, a.device(), a.domainId(), now.isEmpty());
                log.info("unit {}: context entry of {} written again (guest {}, domain id {})", unitId, a.device(),
                        a.guest(), a.domainId());
            } catch (RuntimeException e) {
                log.error("unit {}: cannot write the context entry of {} again: {}", unitId, a.device(), e.getMessage());
            }
        }
        // the guests' pages come back too: on empty tables, and on kept ones, which miss what was mapped
        // while the unit was away (an unmap waits for the unit)
        Set<GuestId> guestsHere = new TreeSet<>();
        for (PciAddress device : attachedByUnit.getOrDefault(unitId, Set.of())) {
            guestsHere.add(attachments.get(device).guest());
        }
        for (GuestId guest : guestsHere) {
            try {
                replayMappings(guest, unit);
            } catch (RuntimeException e) {
                log.error("unit {}: cannot write the mappings of guest {} again: {}", unitId, guest, e.getMessage());
            }
        }
        UnitDescriptor descriptor = descriptors.get(unitId);
        for (PciAddress device : unit.devices()) {
            if (attachments.containsKey(device)) {
                continue;
            }
            Optional<DeviceContext> found = unit.context(device);
            if (found.isEmpty()) {
                continue;
            }
            GuestId guest = found.get().guest();
            DomainId did = found.get().domainId();
            Optional<GuestId> holder = table.guest(unitId, did);
            Optional<DomainId> held = table.domainId(guest, unitId);
            String conflict = null;
            if (did.value() >= descriptor.domainIdCount() || descriptor.reserved().contains(did)) {
                conflict = "domain id " + did + " is out of the unit's range or reserved";
            } else if (holder.isPresent() && !holder.get().equals(guest)) {
                conflict = "domain id " + did + " is guest " + holder.get() + "'s";
            } else if (held.isPresent() && !held.get().equals(did)) {
                conflict = "guest " + guest + " holds domain id " + held.get() + " there";
            }
            if (conflict != null) {
                unitProblem("unit " + unitId + ": the context entry of " + device + " (guest " + guest + ", domain id "
                        + did + ") conflicts with the map (" + conflict + "): cleared, the device is back with the host");
                try {
                    unit.clearContext(device);
                    flush.flushDeviceContext(unitId, device, did, false);
                } catch (RuntimeException e) {
                    log.error("unit {}: cannot clear the context entry of {}: {}", unitId, device, e.getMessage());
                }
                continue;
            }
            if (held.isEmpty()) {
                table.put(guest, unitId, did);
            }
            Attachment adopted = new Attachment(device, guest, unitId, did);
            record(adopted);
            adoptedAny = true;
            if (journal != null && unit.inheritedTables()) {
                unitProblem("unit " + unitId + ": its kept tables give " + device + " to guest " + guest
                        + " with domain id " + did + ", which the platform had not recorded; adopted");
            }
            log.info("unit {}: adopted {} attached to guest {} with domain id {}", unitId, device, guest, did);
            journal(Journal.attach(adopted));
            adoptedGuests.add(guest);
        }
        adoptedGuests.forEach(guest -> adoptMappings(unit, guest));
        return adoptedAny;
    }

    /**
     * A guest adopted from a unit's entries (this manager restarted): its pages
     * are taken from the unit's page table too, when the manager has no record
     * of them; a record that the table contradicts is written again over it.
     */
    private void adoptMappings(IommuUnit unit, GuestId guest) {
        Optional<List<iommu.api.spi.MappedRange>> read;
        try {
            read = unit.mappings(guest);
        } catch (RuntimeException e) {
            unitProblem("unit " + unit.id() + ": cannot read guest " + guest + "'s mappings: " + oneLine(e));
            return;
        }
        if (read.isEmpty()) {
            return; // the unit cannot tell: the journal, if any, brings them back
        }
        GuestMappings found = GuestMappings.of(read.get());
        GuestMappings recorded = mappings.get(guest);
        if (recorded == null) {
            if (!found.isEmpty()) {
                mappings.put(guest, found);
                log.info("unit {}: adopted {} mapped runs of guest {}", unit.id(), found.runs().size(), guest);
                journal(found.runs().stream().map(r -> Journal.map(guest, r.iova(), r.hostAddress(), r.pages()))
                        .toArray(String[]::new));
            }
        } else if (!recorded.samePages(found)) {
            unitProblem("unit " + unit.id() + ": its page table maps guest " + guest + "'s pages otherwise than the"
                    + " platform's record (" + found.coalesced().size() + " runs there, " + recorded.coalesced().size()
                    + " recorded); the record written again");
            try {
                for (GuestMappings.Run r : found.runs()) {
                    unit.unmap(guest, r.iova(), r.pages());
                }
                replayMappings(guest, unit);
                flush.flushGuest(guest);
            } catch (RuntimeException e) {
                unitProblem("unit " + unit.id() + ": cannot write guest " + guest + "'s mappings again: " + oneLine(e));
            }
        }
    }

    /** Which unit translates each device: the one with the strongest claim, first by unit id on a tie. */
    private void rebuildDeviceIndex() {
        deviceIndex.clear();
        indexStrength.clear();
        indexByUnit.clear();
        units.values().forEach(this::indexUnit);
    }

    /** A unit appeared: it takes the devices it claims more strongly than their unit; nothing else is read. */
    private void indexUnit(IommuUnit unit) {
        for (PciAddress device : unit.devices()) {
            claim(device, unit, unit.scopeOf(device));
        }
    }

    /** A unit went: its devices go to the strongest remaining claimant; only they are looked at. */
    private void unindexUnit(String unitId) {
        Set<PciAddress> orphans = indexByUnit.remove(unitId);
        if (orphans == null) {
            return;
        }
        for (PciAddress device : orphans) {
            deviceIndex.remove(device);
            indexStrength.remove(device);
        }
        for (IommuUnit unit : units.values()) {
            // a unit's scope may reach a device it does not translate (another INCLUDE_PCI_ALL
            // unit, say): only the devices it lists are its own
            Set<PciAddress> listed = new java.util.HashSet<>(unit.devices());
            for (PciAddress device : orphans) {
                if (listed.contains(device)) {
                    claim(device, unit, unit.scopeOf(device));
                }
            }
        }
    }

    private void claim(PciAddress device, IommuUnit unit, ScopeMatch match) {
        if (!match.claims()) {
            return;
        }
        ScopeMatch best = indexStrength.get(device);
        String holder = deviceIndex.get(device);
        int stronger = best == null ? 1 : match.compareTo(best);
        if (stronger > 0 || (stronger == 0 && unit.id().compareTo(holder) < 0)) {
            if (holder != null) {
                indexByUnit.get(holder).remove(device);
            }
            deviceIndex.put(device, unit.id());
            indexStrength.put(device, match);
            indexByUnit.computeIfAbsent(unit.id(), u -> new java.util.HashSet<>()).add(device);
        }
    }

    // ---- strategies

    @Reference(name = "strategies", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        lock.lock();
        try {
            strategies.put(strategy, entry(strategy, properties));
            if (active) {
                reselect();
            }
        } finally {
            lock.unlock();
        }
    }

    void updatedStrategy(AllocationStrategy strategy, Map<String, Object> properties) {
        bindStrategy(strategy, properties);
    }

    void unbindStrategy(AllocationStrategy strategy) {
        lock.lock();
        try {
            strategies.remove(strategy);
            if (bound != null && bound.entry().service() == strategy) {
                log.warn("strategy {} went away: assignments stay as they are; attaches fail until a strategy is bound",
                        bound.entry().name());
                bound = null;
            }
            if (active) {
                reselect();
            }
        } finally {
            lock.unlock();
        }
    }

    private static StrategyEntry entry(AllocationStrategy strategy, Map<String, Object> properties) {
        Object name = properties.get(AllocationStrategy.NAME);
        Object ranking = properties.get(Constants.SERVICE_RANKING);
        Object id = properties.get(Constants.SERVICE_ID);
        return new StrategyEntry(strategy, name == null ? strategy.name() : String.valueOf(name),
                ranking instanceof Integer r ? r : 0, id instanceof Long l ? l : 0L);
    }

    /** Binds the requested strategy when it is present and accepts the current assignments; else keeps the old one. */
    private void reselect() {
        if (requested == null || requested.isBlank()) {
            problem = "configuration " + CoreConfig.PID + " names no strategy: expected one of " + strategyNames();
            return;
        }
        Optional<StrategyEntry> wanted = strategies.values().stream()
                .filter(e -> e.name().equals(requested))
                .max(Comparator.comparingInt(StrategyEntry::ranking)
                        .thenComparing(Comparator.comparingLong(StrategyEntry::serviceId).reversed()));
        if (wanted.isEmpty()) {
            problem = "strategy '" + requested + "' is not available: present are " + strategyNames()
                    + (bound == null ? "" : "; '" + bound.entry().name() + "' stays bound");
            return;
        }
        if (bound != null && bound.entry().service() == wanted.get().service()) {
            problem = null;
            return;
        }
        try {
            DomainIdAllocator allocator = wanted.get().service().open(descriptors.values(), assignments());
            applyRenumbering(wanted.get().name(), allocator);
            String previous = bound == null ? null : bound.entry().name();
            bound = new Bound(wanted.get(), allocator);
            problem = null;
            log.info("strategy {} bound{}", requested, previous == null ? "" : " in place of " + previous);
        } catch (RuntimeException e) {
            problem = "strategy '" + requested + "' refused: " + oneLine(e)
                    + (bound == null ? "" : "; '" + bound.entry().name() + "' stays bound");
            log.warn(problem);
        }
    }

    /** A unit appeared or adopted entries: the allocator is rebuilt from the assignments, as on binding. */
    private void reopenAllocator() {
        if (bound == null) {
            reselect();
            return;
        }
        try {
            DomainIdAllocator allocator = bound.entry().service().open(descriptors.values(), assignments());
            applyRenumbering(bound.entry().name(), allocator);
            bound = new Bound(bound.entry(), allocator);
        } catch (RuntimeException e) {
            problem = "strategy '" + bound.entry().name() + "' cannot hold the assignments after a unit change: "
                    + oneLine(e);
            log.error(problem);
            bound = null;
        }
    }

    private List<String> strategyNames() {
        return strategies.values().stream().map(StrategyEntry::name).distinct().sorted().toList();
    }

    /** Every guest's domain id on every unit, quarantined ids included (they are not free). */
    private List<Assignment> assignments() {
        List<Assignment> list = new ArrayList<>();
        for (GuestId guest : devicesByGuest.keySet()) {
            table.domainsOf(guest).forEach((unitId, did) -> list.add(new Assignment(guest, unitId, did)));
        }
        quarantine.forEach((unitId, ids) -> ids.forEach((did, guest) -> list.add(new Assignment(guest, unitId, did))));
        return list;
    }

    /**
     * Moves every device whose domain id the new allocator changed, as one
     * transaction: clear each entry and invalidate the old id, then write the
     * new entries; on any failure everything is put back as it was.
     */
    private void applyRenumbering(String strategyName, DomainIdAllocator allocator) {
        Map<Assignment, DomainId> plan = allocator.renumbering();
        if (plan.isEmpty()) {
            return;
        }
        List<Attachment> moved = new ArrayList<>();
        for (Assignment a : plan.keySet()) {
            devicesOf(a.guest(), a.unitId()).forEach(d -> moved.add(attachments.get(d)));
        }
        log.info("strategy {}: renumbering {} domain ids over {} devices", strategyName, plan.size(), moved.size());
        UndoLog undo = new UndoLog();
        try {
            // every entry that moves is cleared and its old id invalidated, in one batch per unit...
            for (Attachment a : moved) {
                IommuUnit unit = presentUnit(a.unitId());
                unit.clearContext(a.device());
                undo.push(() -> {
                    unit.setContext(a.device(), a.context());
                    flush.flushDeviceContext(a.unitId(), a.device(), a.domainId(), true);
                });
            }
            flush.flushContextChanges(moved.stream()
                    .map(a -> new ContextChange(a.unitId(), a.device(), a.domainId(), false)).toList());
            // ...before any new entry is written, so no id is live twice on a unit
            List<ContextChange> written = new ArrayList<>();
            for (Attachment a : moved) {
                IommuUnit unit = presentUnit(a.unitId());
                DomainId next = plan.get(new Assignment(a.guest(), a.unitId(), a.domainId()));
                unit.setContext(a.device(), new DeviceContext(next, a.guest()));
                undo.push(() -> {
                    unit.clearContext(a.device());
                    flush.flushDeviceContext(a.unitId(), a.device(), next, false);
                });
                written.add(new ContextChange(a.unitId(), a.device(), next, true));
                // progress for the console (it shows the core's log lines) on long renumberings
                if (moved.size() >= 1000 && written.size() % (moved.size() / 10) == 0) {
                    log.info("strategy {}: renumbering: {} of {} context entries written", strategyName,
                            written.size(), moved.size());
                }
            }
            flush.flushContextChanges(written);
        } catch (RuntimeException e) {
            undo.rollBack(e);
            throw new IommuException("renumbering failed and was rolled back: " + oneLine(e), e);
        }
        plan.forEach((a, next) -> {
            Map<DomainId, GuestId> held = quarantine.get(a.unitId());
            if (held != null && held.remove(a.domainId(), a.guest())) {
                held.put(next, a.guest());
            } else {
                table.remove(a.guest(), a.unitId(), a.domainId());
            }
        });
        plan.forEach((a, next) -> {
            if (!quarantine.getOrDefault(a.unitId(), Map.of()).containsKey(next)) {
                table.put(a.guest(), a.unitId(), next);
            }
        });
        List<String> records = new ArrayList<>();
        for (Attachment a : moved) {
            Attachment renumbered = a.withDomainId(plan.get(new Assignment(a.guest(), a.unitId(), a.domainId())));
            attachments.put(a.device(), renumbered);
            if (journal != null) {
                records.add(Journal.attach(renumbered));
            }
        }
        allocator.commitRenumbering();
        journal(records.toArray(String[]::new));
    }

    // ---- attach and detach

    @Override
    public GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory) {
        requireGuest(guest);
        Set<PciAddress> wanted = distinct(devices);
        return locked(() -> {
            retryQuarantine();
            DomainIdAllocator allocator = requireAllocator();
            Map<PciAddress, String> unitOf = new LinkedHashMap<>();
            for (PciAddress device : wanted) {
                Attachment existing = attachments.get(device);
                if (existing != null) {
                    throw new IommuException(existing.guest().equals(guest)
                            ? "device " + device + " is already attached to guest " + guest
                            : "device " + device + " is attached to guest " + existing.guest() + ": detach it first");
                }
                String unitId = resolveUnit(device);
                if (!allowReservedMemory && units.get(unitId).hasReservedMemory(device)) {
                    throw new IommuException("device " + device + " has firmware-reserved memory (RMRR/IVMD) that it may "
                            + "DMA to at any time: attaching it needs the reserved-memory override");
                }
                if (quarantine.getOrDefault(unitId, Map.of()).containsValue(guest)) {
                    throw new IommuException("guest " + guest + "'s previous domain id on unit " + unitId
                            + " awaits an invalidation that failed: retry once the unit completes invalidations");
                }
                unitOf.put(device, unitId);
            }
            UndoLog undo = new UndoLog();
            try {
                for (Map.Entry<PciAddress, String> e : unitOf.entrySet()) {
                    attachOne(allocator, guest, e.getKey(), e.getValue(), undo);
                }
                // durable before it is acknowledged
                journal(unitOf.keySet().stream().map(d -> Journal.attach(attachments.get(d))).toArray(String[]::new));
            } catch (RuntimeException e) {
                undo.rollBack(e);
                throw e instanceof IommuException ie ? ie : new IommuException(oneLine(e), e);
            }
            return guestDto(guest);
        });
    }

    private void attachOne(DomainIdAllocator allocator, GuestId guest, PciAddress device, String unitId, UndoLog undo) {
        IommuUnit unit = presentUnit(unitId);
        Optional<DomainId> held = table.domainId(guest, unitId);
        DomainId did;
        if (held.isPresent()) {
            did = held.get();
        } else {
            try {
                did = allocator.allocate(guest, unitId);
            } catch (RuntimeException e) {
                count(unitId, "failures");
                throw e;
            }
            count(unitId, "allocations");
            table.put(guest, unitId, did);
            DomainId allocated = did;
            undo.push(() -> releaseOrQuarantine(allocator, guest, unitId, allocated, true));
            // the guest reaches this unit for the first time: its I/O space comes along
            replayMappings(guest, unit);
            undo.push(() -> dropMappings(guest, unit));
        }
        unit.setContext(device, new DeviceContext(did, guest));
        undo.push(() -> {
            unit.clearContext(device);
            flush.flushDeviceContext(unitId, device, did, false);
        });
        flush.flushDeviceContext(unitId, device, did, true);
        record(new Attachment(device, guest, unitId, did));
        undo.push(() -> forget(device));
    }

    @Override
    public void detach(List<PciAddress> devices) {
        Set<PciAddress> wanted = distinct(devices);
        locked(() -> {
            retryQuarantine();
            List<Attachment> leaving = new ArrayList<>();
            for (PciAddress device : wanted) {
                Attachment a = attachments.get(device);
                if (a == null) {
                    throw new IommuException(deviceIndex.containsKey(device)
                            ? "device " + device + " is not attached to any guest"
                            : "unknown device " + device + ": no IOMMU unit translates it (see iommu:devices)");
                }
                if (!units.containsKey(a.unitId())) {
                    throw new IommuException("unit " + a.unitId() + " of device " + device
                            + " is not present: its context entry cannot be cleared now");
                }
                leaving.add(a);
            }
            // Clear every entry, then wait for the invalidations; only then may ids go back.
            UndoLog undo = new UndoLog();
            try {
                for (Attachment a : leaving) {
                    IommuUnit unit = units.get(a.unitId());
                    unit.clearContext(a.device());
                    undo.push(() -> {
                        unit.setContext(a.device(), a.context());
                        flush.flushDeviceContext(a.unitId(), a.device(), a.domainId(), true);
                    });
                }
                flush.flushContextChanges(leaving.stream()
                        .map(a -> new ContextChange(a.unitId(), a.device(), a.domainId(), false)).toList());
                journal(leaving.stream().map(a -> Journal.detach(a.device())).toArray(String[]::new));
            } catch (RuntimeException e) {
                undo.rollBack(e);
                throw new IommuException("detach failed, nothing changed: " + oneLine(e), e);
            }
            for (Attachment a : leaving) {
                forget(a.device());
                if (devicesOf(a.guest(), a.unitId()).isEmpty()) {
                    dropMappings(a.guest(), units.get(a.unitId()));
                    table.remove(a.guest(), a.unitId(), a.domainId());
                    if (bound != null) {
                        bound.allocator().release(a.guest(), a.unitId(), a.domainId());
                        count(a.unitId(), "releases");
                    }
                }
            }
            return null;
        });
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        requireGuest(guest);
        GuestMappings.checkRange(iova, pages);
        GuestMappings.checkRange(hostAddress, pages);
        locked(() -> {
            GuestMappings existing = mappings.get(guest);
            GuestMappings.Run overlap = existing == null ? null : existing.overlap(iova, pages);
            if (overlap != null) {
                throw new IommuException(String.format("guest %s already maps %d pages at IOVA 0x%x: unmap them first",
                        guest, overlap.pages(), overlap.iova()));
            }
            // journaled before any table has the pages: a unit's kept tables never map what the journal
            // does not (a kill before the tables are written replays the map, which was not acknowledged)
            journal(Journal.map(guest, iova, hostAddress, pages));
            UndoLog undo = new UndoLog();
            boolean cachingMode = false;
            try {
                for (String unitId : table.domainsOf(guest).keySet()) {
                    IommuUnit unit = units.get(unitId);
                    if (unit == null) {
                        continue; // written when the unit returns
                    }
                    unit.map(guest, iova, hostAddress, pages);
                    undo.push(() -> unit.unmap(guest, iova, pages));
                    cachingMode |= unit.invalidationCapabilities().cachingMode();
                }
                if (cachingMode) {
                    // a unit in caching mode may have cached the pages as not present
                    flush.flushPages(guest, iova, pages);
                }
            } catch (RuntimeException e) {
                undo.rollBack(e);
                journal(Journal.unmap(guest, iova, pages));
                throw e instanceof IommuException ie ? ie : new IommuException(oneLine(e), e);
            }
            mappings.computeIfAbsent(guest, g -> new GuestMappings()).add(iova, hostAddress, pages);
            return null;
        });
    }

    @Override
    public void unmap(GuestId guest, long iova, long pages) {
        requireGuest(guest);
        GuestMappings.checkRange(iova, pages);
        locked(() -> {
            GuestMappings guestMappings = mappings.get(guest);
            if (guestMappings == null || guestMappings.overlap(iova, pages) == null) {
                return null;
            }
            for (var held : table.domainsOf(guest).entrySet()) {
                if (!units.containsKey(held.getKey())) {
                    // its tables (kept in a file, say) may still map the pages: unmapping waits for it
                    throw new IommuException("unit " + held.getKey() + ", where guest " + guest + " holds domain id "
                            + held.getValue() + ", is not present: its tables cannot be unmapped now");
                }
            }
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = units.get(unitId);
                if (unit != null) {
                    unit.unmap(guest, iova, pages);
                }
            }
            guestMappings.remove(iova, pages);
            if (guestMappings.isEmpty()) {
                mappings.remove(guest);
            }
            // the pages are gone from the tables, and the journal says so whatever the flush does
            journal(Journal.unmap(guest, iova, pages));
            try {
                // they are gone from the caches once this returns
                flush.flushPages(guest, iova, pages);
            } catch (RuntimeException e) {
                throw new IommuException(String.format("unmap of %d pages at IOVA 0x%x of guest %s: the pages are"
                        + " unmapped, but their invalidation failed, so a unit may still cache them until a flush of"
                        + " the guest succeeds (iommu:flush %s): %s", pages, iova, guest, guest, oneLine(e)), e);
            }
            return null;
        });
    }

    private void replayMappings(GuestId guest, IommuUnit unit) {
        GuestMappings guestMappings = mappings.get(guest);
        if (guestMappings != null) {
            for (GuestMappings.Run run : guestMappings.runs()) {
                // a unit on kept tables may have the pages already (or have lost a later unmap): written anew
                unit.unmap(guest, run.iova(), run.pages());
                unit.map(guest, run.iova(), run.hostAddress(), run.pages());
            }
        }
    }

    private void dropMappings(GuestId guest, IommuUnit unit) {
        GuestMappings guestMappings = mappings.get(guest);
        if (guestMappings != null && unit != null) {
            for (GuestMappings.Run run : guestMappings.runs()) {
                unit.unmap(guest, run.iova(), run.pages());
            }
        }
    }

    private static void requireGuest(GuestId guest) {
        if (guest == null || guest.isHost()) {
            throw new IommuException("guest 0 is the host, which owns every unattached device: expected a guest id 1.."
                    + GuestId.MAX);
        }
    }

    /**
     * Gives a domain id back after invalidating it on its unit; when the
     * invalidation fails the id stays allocated, in quarantine, until a later
     * flush of it succeeds.
     */
    private void releaseOrQuarantine(DomainIdAllocator allocator, GuestId guest, String unitId, DomainId did,
            boolean inTable) {
        if (inTable) {
            table.remove(guest, unitId, did);
        }
        try {
            flush.flushDomain(unitId, did);
        } catch (RuntimeException e) {
            quarantine.computeIfAbsent(unitId, u -> new TreeMap<>()).put(did, guest);
            count(unitId, "quarantined");
            log.warn("unit {}: domain id {} quarantined until its invalidation succeeds: {}", unitId, did, e.getMessage());
            return;
        }
        allocator.release(guest, unitId, did);
        count(unitId, "releases");
    }

    private void retryQuarantine() {
        if (quarantine.isEmpty() || bound == null) {
            return;
        }
        for (String unitId : List.copyOf(quarantine.keySet())) {
            Map<DomainId, GuestId> ids = quarantine.get(unitId);
            for (DomainId did : List.copyOf(ids.keySet())) {
                GuestId guest = ids.get(did);
                if (!units.containsKey(unitId)) {
                    continue;
                }
                try {
                    flush.flushDomain(unitId, did);
                } catch (RuntimeException e) {
                    continue;
                }
                ids.remove(did);
                bound.allocator().release(guest, unitId, did);
                count(unitId, "releases");
                log.info("unit {}: quarantined domain id {} invalidated and released", unitId, did);
            }
            if (ids.isEmpty()) {
                quarantine.remove(unitId);
            }
        }
    }

    private DomainIdAllocator requireAllocator() {
        if (bound == null) {
            throw new IommuException("no allocation strategy bound: "
                    + (problem == null ? "strategy '" + requested + "' is not available" : problem));
        }
        return bound.allocator();
    }

    private String resolveUnit(PciAddress device) {
        String unitId = deviceIndex.get(device);
        if (unitId == null) {
            throw new IommuException("unknown device " + device + ": no IOMMU unit translates it (" + deviceIndex.size()
                    + " devices known on units " + units.keySet() + "; see iommu:devices)");
        }
        return unitId;
    }

    private IommuUnit presentUnit(String unitId) {
        IommuUnit unit = units.get(unitId);
        if (unit == null) {
            throw new IommuException("unit " + unitId + " is not present");
        }
        return unit;
    }

    private void record(Attachment a) {
        attachments.put(a.device(), a);
        attachedByUnit.computeIfAbsent(a.unitId(), u -> new TreeSet<>()).add(a.device());
        devicesByGuest.computeIfAbsent(a.guest(), g -> new TreeMap<>())
                .computeIfAbsent(a.unitId(), u -> new TreeSet<>()).add(a.device());
    }

    private void forget(PciAddress device) {
        Attachment a = attachments.remove(device);
        if (a == null) {
            return;
        }
        Set<PciAddress> onUnit = attachedByUnit.get(a.unitId());
        onUnit.remove(device);
        if (onUnit.isEmpty()) {
            attachedByUnit.remove(a.unitId());
        }
        Map<String, Set<PciAddress>> byUnit = devicesByGuest.get(a.guest());
        Set<PciAddress> set = byUnit.get(a.unitId());
        set.remove(device);
        if (set.isEmpty()) {
            byUnit.remove(a.unitId());
        }
        if (byUnit.isEmpty()) {
            devicesByGuest.remove(a.guest());
        }
    }

    private Set<PciAddress> devicesOf(GuestId guest, String unitId) {
        return devicesByGuest.getOrDefault(guest, Map.of()).getOrDefault(unitId, Set.of());
    }

    /** An exception's message, or its type when it has none: errors are always one meaningful line. */
    static String oneLine(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("");
    }

    private static Set<PciAddress> distinct(List<PciAddress> devices) {
        if (devices == null || devices.isEmpty()) {
            throw new IommuException("no device given: expected at least one PCI address SSSS:BB:DD.F");
        }
        Set<PciAddress> set = new LinkedHashSet<>();
        for (PciAddress d : devices) {
            if (!set.add(d)) {
                throw new IommuException("device " + d + " is given twice");
            }
        }
        return set;
    }

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

    // ---- listings

    @Override
    public List<GuestDTO> guests() {
        return locked(() -> devicesByGuest.keySet().stream().map(this::guestDto).toList());
    }

    @Override
    public Optional<GuestDTO> guest(GuestId guest) {
        return locked(() -> devicesByGuest.containsKey(guest) ? Optional.of(guestDto(guest)) : Optional.empty());
    }

    private GuestDTO guestDto(GuestId guest) {
        GuestDTO dto = new GuestDTO();
        dto.guest = guest.value();
        dto.devices = devicesByGuest.getOrDefault(guest, Map.of()).values().stream()
                .flatMap(Set::stream)
                .sorted()
                .map(attachments::get)
                .map(a -> {
                    GuestDeviceDTO d = new GuestDeviceDTO();
                    d.bdf = a.device().toString();
                    d.unit = a.unitId();
                    d.did = a.domainId().value();
                    return d;
                })
                .toList();
        return dto;
    }

    @Override
    public List<DeviceDTO> devices() {
        return locked(() -> {
            Map<PciAddress, String> all = new TreeMap<>(deviceIndex);
            attachments.values().forEach(a -> all.put(a.device(), a.unitId()));
            return all.entrySet().stream().map(e -> {
                DeviceDTO dto = new DeviceDTO();
                dto.bdf = e.getKey().toString();
                dto.unit = e.getValue();
                Attachment a = attachments.get(e.getKey());
                dto.guest = a == null ? null : a.guest().value();
                IommuUnit unit = units.get(e.getValue());
                dto.reservedMemory = unit != null && unit.hasReservedMemory(e.getKey());
                return dto;
            }).toList();
        });
    }

    @Override
    public List<UnitDTO> units() {
        return locked(() -> {
            Map<String, Long> deviceCounts = deviceIndex.values().stream()
                    .collect(Collectors.groupingBy(u -> u, Collectors.counting()));
            return units.values().stream().map(u -> {
                UnitDTO dto = new UnitDTO();
                dto.id = u.id();
                dto.vendor = u.vendor();
                dto.segment = u.segment();
                dto.registerBase = u.registerBase();
                dto.includePciAll = u.includePciAll();
                dto.domainIds = u.domainIdCount();
                dto.reserved = u.reservedDomainIds().stream().mapToInt(DomainId::value).sorted().toArray();
                dto.usedDomainIds = table.usedOn(u.id());
                dto.devices = deviceCounts.getOrDefault(u.id(), 0L).intValue();
                return dto;
            }).toList();
        });
    }

    @Override
    public StateDTO state() {
        return locked(() -> {
            StateDTO dto = new StateDTO();
            dto.directory = journal == null ? null : stateDirectory;
            dto.restored = restored;
            List<String> all = new ArrayList<>(recoveryProblems);
            if (journal != null) {
                // with state kept, what units' kept tables disagreed on belongs to the recovery report
                all.addAll(unitProblems);
            }
            dto.problems = List.copyOf(all);
            return dto;
        });
    }

    /** Reports a disagreement between a unit's tables and the records: logged, and kept for {@link #state()}. */
    private void unitProblem(String problem) {
        log.warn(problem);
        if (unitProblems.size() < 1000) {
            unitProblems.add(problem);
        }
    }

    private void journal(String... records) {
        if (journal != null && records.length > 0) {
            journal.append(List.of(records));
        }
    }

    /**
     * Switches to the state directory: its journal is reconciled with the
     * present state ({@link #reconcile}), then rewritten as a snapshot of the
     * result. An empty one makes state ephemeral; on activation that reads the
     * snapshot a deactivation of this launch left ({@link #restoreSnapshot}).
     */
    private void openState(String directory, boolean activating) {
        String wanted = directory == null ? "" : directory.trim();
        if (wanted.isEmpty()) {
            if (activating || !stateDirectory.isEmpty()) {
                closeJournal();
                stateDirectory = "";
                restored = 0;
                recoveryProblems = List.of();
                if (activating) {
                    restoreSnapshot();
                }
            }
            return;
        }
        if (wanted.equals(stateDirectory)) {
            return;
        }
        Journal.State loaded;
        try {
            loaded = Journal.read(java.nio.file.Path.of(wanted));
        } catch (RuntimeException e) {
            recoveryProblems = List.of(oneLine(e));
            log.error("state directory {} not loaded: {}", wanted, oneLine(e));
            return;
        }
        closeJournal();
        stateDirectory = wanted;
        List<String> problems = reconcile(loaded);
        recoveryProblems = List.copyOf(problems);
        problems.forEach(p -> log.warn("recovery from {}: {}", wanted, p));
        journal = Journal.rewrite(java.nio.file.Path.of(wanted), attachments, mappings);
        log.info("state kept in {}: {} attachments restored, {} disagreements reported", wanted, restored,
                problems.size());
    }

    private void closeJournal() {
        if (journal != null) {
            journal.close();
            journal = null;
        }
    }

    /**
     * Without a state directory, what the core alone knows (a guest's pages
     * while it holds no device, so no unit has them) is written to its
     * bundle's data area when the component deactivates, and read back when
     * it activates again in the same framework launch (a restart of the bundle,
     * or of a bundle it needs); the process ending keeps nothing. Nothing is
     * written per operation.
     */
    private void saveSnapshot() {
        if (privateDirectory == null) {
            return;
        }
        try {
            java.nio.file.Files.createDirectories(privateDirectory);
            java.nio.file.Files.writeString(privateDirectory.resolve("framework"), frameworkId == null ? "" : frameworkId);
            Journal.rewrite(privateDirectory, attachments, mappings, false).close();
        } catch (java.io.IOException | RuntimeException e) {
            log.error("cannot keep the state in {} across the restart: {}; the pages of guests that hold no device"
                    + " are lost", privateDirectory, oneLine(e));
        }
    }

    /** The snapshot {@link #saveSnapshot} left in this framework launch, reconciled with the units, then consumed. */
    private void restoreSnapshot() {
        if (privateDirectory == null || frameworkId == null) {
            return;
        }
        try {
            java.nio.file.Path owner = privateDirectory.resolve("framework");
            java.nio.file.Path file = privateDirectory.resolve(Journal.FILE);
            if (!java.nio.file.Files.exists(file) || !java.nio.file.Files.exists(owner)
                    || !frameworkId.equals(java.nio.file.Files.readString(owner).trim())) {
                return;
            }
            List<String> problems = reconcile(Journal.read(privateDirectory));
            recoveryProblems = List.copyOf(problems);
            problems.forEach(p -> log.warn("recovery after a restart of the bundle: {}", p));
            java.nio.file.Files.delete(file);
        } catch (java.io.IOException | RuntimeException e) {
            log.error("cannot read the state kept in {} across the restart: {}", privateDirectory, oneLine(e));
        }
    }

    /**
     * Replays a journal into the present state, restoring attachments whose
     * entries the units lost (a new process, a unit that came back empty), and
     * returns every disagreement between the journal and the units instead of
     * guessing.
     */
    private List<String> reconcile(Journal.State loaded) {
        restored = 0;
        List<String> problems = new ArrayList<>();
        for (Attachment j : loaded.attachments.values()) {
            Attachment now = attachments.get(j.device());
            if (now != null) {
                if (!now.equals(j)) {
                    problems.add("device " + j.device() + ": the journal has guest " + j.guest() + ", domain id "
                            + j.domainId() + " on unit " + j.unitId() + "; the units have guest " + now.guest()
                            + ", domain id " + now.domainId() + " on unit " + now.unitId() + "; kept the units'");
                }
                continue;
            }
            Optional<GuestId> holder = table.guest(j.unitId(), j.domainId());
            Optional<DomainId> held = table.domainId(j.guest(), j.unitId());
            if ((holder.isPresent() && !holder.get().equals(j.guest())) || (held.isPresent() && !held.get().equals(j.domainId()))) {
                problems.add("device " + j.device() + ": the journal gives it guest " + j.guest() + " with domain id "
                        + j.domainId() + " on unit " + j.unitId() + ", which the units give otherwise; not restored");
                continue;
            }
            if (held.isEmpty()) {
                table.put(j.guest(), j.unitId(), j.domainId());
            }
            record(j);
            restored++;
            IommuUnit unit = units.get(j.unitId());
            if (unit != null && unit.inheritedTables()) {
                problems.add("device " + j.device() + ": the journal has it attached to guest " + j.guest()
                        + " (domain id " + j.domainId() + " on unit " + j.unitId() + ") but the unit's kept tables do"
                        + " not (a detach that was not acknowledged, or lost tables); restored from the journal");
            }
            if (unit != null) {
                try {
                    unit.setContext(j.device(), j.context());
                    flush.flushDeviceContext(j.unitId(), j.device(), j.domainId(), true);
                } catch (RuntimeException e) {
                    problems.add("device " + j.device() + ": its context entry could not be written again on unit "
                            + j.unitId() + ": " + oneLine(e));
                }
            }
            // a unit the journal names but that is not here yet: the allocator learns its real size when it comes
            descriptors.computeIfAbsent(j.unitId(), id -> new UnitDescriptor(id, 0x10000, Set.of(DomainId.of(0))));
        }
        for (Attachment a : attachments.values()) {
            if (!loaded.attachments.containsKey(a.device())) {
                problems.add("device " + a.device() + " is attached to guest " + a.guest() + " (domain id "
                        + a.domainId() + " on unit " + a.unitId() + ") but the journal does not have it; kept");
            }
        }
        loaded.mappings.forEach((guest, runs) -> {
            GuestMappings adopted = mappings.get(guest);
            if (adopted != null && adopted.samePages(runs)) {
                return; // the units' page tables hold what the journal says
            }
            if (adopted != null) {
                problems.add("guest " + guest + ": the units' page tables map its pages otherwise than the journal ("
                        + adopted.coalesced().size() + " runs there, " + runs.coalesced().size()
                        + " in the journal); the journal's written again");
            }
            mappings.put(guest, runs);
            for (String unitId : table.domainsOf(guest).keySet()) {
                IommuUnit unit = units.get(unitId);
                if (unit != null) {
                    try {
                        if (adopted != null) {
                            for (GuestMappings.Run r : adopted.runs()) {
                                unit.unmap(guest, r.iova(), r.pages());
                            }
                        }
                        replayMappings(guest, unit);
                    } catch (RuntimeException e) {
                        problems.add("guest " + guest + ": its mappings could not be written again on unit " + unitId
                                + ": " + oneLine(e));
                    }
                }
            }
        });
        for (GuestId guest : mappings.keySet()) {
            if (!loaded.mappings.containsKey(guest) && !mappings.get(guest).isEmpty()) {
                problems.add("guest " + guest + " has pages mapped in the units' page tables (" + mappings.get(guest)
                        .coalesced().size() + " runs) that the journal does not have; kept");
            }
        }
        if (restored > 0) {
            reopenAllocator();
        }
        return problems;
    }

    private void count(String unitId, String counter) {
        counters.computeIfAbsent(unitId, u -> new LinkedHashMap<>(Map.of())).merge(counter, 1L, Long::sum);
    }

    @Override
    public Map<String, Map<String, Long>> allocationCounts() {
        return locked(() -> {
            Map<String, Map<String, Long>> all = new TreeMap<>();
            for (String unitId : descriptors.keySet()) {
                Map<String, Long> c = new LinkedHashMap<>();
                for (String name : List.of("allocations", "releases", "failures", "quarantined")) {
                    c.put(name, counters.getOrDefault(unitId, Map.of()).getOrDefault(name, 0L));
                }
                all.put(unitId, c);
            }
            return all;
        });
    }

    @Override
    public List<String> audit() {
        return locked(() -> {
            List<String> problems = new ArrayList<>();
            for (Attachment a : attachments.values()) {
                String what = "device " + a.device() + " of guest " + a.guest() + " on unit " + a.unitId();
                IommuUnit unit = units.get(a.unitId());
                if (unit == null) {
                    problems.add(what + ": the unit is absent (its entry is written again when it returns)");
                } else {
                    Optional<DeviceContext> entry = unit.context(a.device());
                    if (entry.isEmpty()) {
                        problems.add(what + ": the unit's context entry is not present; expected domain id " + a.domainId());
                    } else if (!entry.get().equals(a.context())) {
                        problems.add(what + ": the unit's context entry holds domain id " + entry.get().domainId()
                                + " of guest " + entry.get().guest() + "; expected domain id " + a.domainId());
                    }
                }
                if (!table.domainId(a.guest(), a.unitId()).equals(Optional.of(a.domainId()))) {
                    problems.add(what + ": the map gives the guest " + table.domainId(a.guest(), a.unitId())
                            .map(DomainId::toString).orElse("no domain id") + " there; expected " + a.domainId());
                }
                if (!table.guest(a.unitId(), a.domainId()).equals(Optional.of(a.guest()))) {
                    problems.add(what + ": the map gives domain id " + a.domainId() + " to " + table.guest(a.unitId(),
                            a.domainId()).map(g -> "guest " + g).orElse("nobody") + "; expected guest " + a.guest());
                }
            }
            for (GuestId guest : table.guests()) {
                table.domainsOf(guest).forEach((unitId, did) -> {
                    if (devicesOf(guest, unitId).isEmpty()) {
                        problems.add("the map gives guest " + guest + " domain id " + did + " on unit " + unitId
                                + " but none of its devices is attached there");
                    }
                });
            }
            for (IommuUnit unit : units.values()) {
                for (PciAddress device : unit.devices()) {
                    if (!attachments.containsKey(device) && unit.context(device).isPresent()) {
                        problems.add("unit " + unit.id() + " has a present context entry for " + device
                                + " (domain id " + unit.context(device).get().domainId() + ") that no assignment records");
                    }
                }
            }
            if (bound != null) {
                for (String unitId : descriptors.keySet()) {
                    java.util.BitSet expected = new java.util.BitSet();
                    table.domainsOn(unitId).keySet().forEach(did -> expected.set(did.value()));
                    quarantine.getOrDefault(unitId, Map.of()).keySet().forEach(did -> expected.set(did.value()));
                    java.util.BitSet marked = bound.allocator().inUse(unitId);
                    if (!marked.equals(expected)) {
                        java.util.BitSet extra = (java.util.BitSet) marked.clone();
                        extra.andNot(expected);
                        java.util.BitSet missing = (java.util.BitSet) expected.clone();
                        missing.andNot(marked);
                        problems.add("unit " + unitId + ": strategy " + bound.entry().name() + " marks ids " + extra
                                + " in use that the map does not hold, and not ids " + missing + " that it does");
                    }
                }
                if ("global".equals(bound.entry().name())) {
                    for (GuestId guest : table.guests()) {
                        Set<DomainId> ids = new TreeSet<>(table.domainsOf(guest).values());
                        if (ids.size() > 1) {
                            problems.add("guest " + guest + " holds domain ids " + ids
                                    + " on different units; strategy global gives one id on every unit");
                        }
                    }
                }
            } else {
                problems.add("no allocation strategy bound: " + (problem == null ? "none requested" : problem));
            }
            return problems;
        });
    }

    @Override
    public Optional<String> strategy() {
        lock.lock();
        try {
            return bound == null ? Optional.empty() : Optional.of(bound.entry().name());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String requestedStrategy() {
        lock.lock();
        try {
            return requested;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<String> strategyProblem() {
        lock.lock();
        try {
            return Optional.ofNullable(problem);
        } finally {
            lock.unlock();
        }
    }
}
