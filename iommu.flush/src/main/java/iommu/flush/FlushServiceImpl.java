package iommu.flush;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import iommu.api.ContextChange;
import iommu.api.DomainId;
import iommu.api.DomainIdMap;
import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.dto.FlushReportDTO;
import iommu.api.dto.InvalidationDTO;
import iommu.api.spi.Invalidation;
import iommu.api.spi.IommuUnit;

/**
 * Finds the units that may cache a guest's entries through the domain-id map
 * (constant time per unit, no scan of guests or ids), issues one batch of
 * invalidations per unit, and waits until every batch completed. Devices
 * with a device-TLB (ATS) get theirs invalidated in the same batch, after
 * every IOTLB invalidation of it (Linux {@code cache_tag_assign} keeps IOTLB
 * tags before device-TLB tags; Xen {@code dev_invalidate_iotlb} follows the
 * IOTLB flush): a device-TLB flushed first could fetch the stale IOTLB entry
 * again.
 */
@Component(configurationPid = FlushConfig.PID)
@Designate(ocd = FlushConfig.class)
public class FlushServiceImpl implements FlushService {

    private final DomainIdMap map;
    private final Logger log;
    private final BundleContext context;
    private final Map<String, IommuUnit> units = new ConcurrentHashMap<>();
    /** Units looked up in the registry before their bind callback reached this component. */
    private final Map<String, ServiceReference<IommuUnit>> borrowed = new ConcurrentHashMap<>();
    private volatile long timeoutMillis;

    @Activate
    public FlushServiceImpl(BundleContext context, @Reference(name = "map") DomainIdMap map,
            @Reference(name = "log", service = LoggerFactory.class) Logger log,
            FlushConfig config) {
        this.context = context;
        this.map = map;
        this.log = log;
        this.timeoutMillis = config.completionTimeoutMillis();
    }

    @Deactivate
    void deactivate() {
        borrowed.keySet().forEach(this::giveBack);
    }

    @Modified
    void modified(FlushConfig config) {
        timeoutMillis = config.completionTimeoutMillis();
    }

    @Reference(name = "units", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void bindUnit(IommuUnit unit) {
        units.put(unit.id(), unit);
    }

    public void unbindUnit(IommuUnit unit) {
        units.remove(unit.id(), unit);
        giveBack(unit.id());
    }

    private void giveBack(String unitId) {
        ServiceReference<IommuUnit> ref = borrowed.remove(unitId);
        if (ref != null) {
            try {
                context.ungetService(ref);
            } catch (IllegalStateException stopping) {
                // the bundle is stopping: the framework releases it anyway
            }
        }
    }

    @Override
    public FlushReportDTO flushGuest(GuestId guest) {
        Map<IommuUnit, List<Invalidation>> batches = new LinkedHashMap<>();
        map.domainsOf(guest).forEach((unitId, did) -> unit(unitId).ifPresent(
                u -> batches.put(u, withDeviceTlbs(List.of(new Invalidation.Domain(did)),
                        InvalidationPlanner.wholeDeviceTlbs(u.deviceTlbs(did))))));
        return issue(batches);
    }

    private static List<Invalidation> withDeviceTlbs(List<Invalidation> iotlb, List<Invalidation> deviceTlbs) {
        if (deviceTlbs.isEmpty()) {
            return iotlb;
        }
        List<Invalidation> all = new ArrayList<>(iotlb);
        all.addAll(deviceTlbs);
        return all;
    }

    @Override
    public FlushReportDTO flushPages(GuestId guest, long iova, long pages) {
        Map<IommuUnit, List<Invalidation>> batches = new LinkedHashMap<>();
        map.domainsOf(guest).forEach((unitId, did) -> unit(unitId).ifPresent(
                u -> batches.put(u, withDeviceTlbs(InvalidationPlanner.pages(u.invalidationCapabilities(), did, iova,
                        pages), InvalidationPlanner.deviceTlbs(u.deviceTlbs(did), iova, pages)))));
        return issue(batches);
    }

    @Override
    public FlushReportDTO flushDeviceContext(String unitId, PciAddress device, DomainId domainId, boolean newlyPresent) {
        IommuUnit unit = requireUnit(unitId);
        List<Invalidation> batch = withDeviceTlbs(InvalidationPlanner.deviceContextChanged(
                unit.invalidationCapabilities(), device, domainId, newlyPresent), deviceTlbAfter(unit, device,
                        newlyPresent));
        return issue(batch.isEmpty() ? Map.of() : Map.of(unit, batch));
    }

    /**
     * The device's whole device-TLB after its entry left a domain (Linux
     * {@code intel_context_flush_no_pasid}, {@code __context_flush_dev_iotlb}):
     * it may hold that domain's translations. A newly present entry follows no
     * other that the device could have cached from.
     */
    private static List<Invalidation> deviceTlbAfter(IommuUnit unit, PciAddress device, boolean newlyPresent) {
        return !newlyPresent && unit.hasDeviceTlb(device) ? List.of(Invalidation.DeviceTlb.all(device)) : List.of();
    }

    @Override
    public FlushReportDTO flushContextChanges(List<ContextChange> changes) {
        // a set per unit: a domain shared by several changed devices is invalidated once
        Map<IommuUnit, java.util.Set<Invalidation>> sets = new LinkedHashMap<>();
        Map<IommuUnit, java.util.Set<Invalidation>> deviceTlbs = new LinkedHashMap<>();
        for (ContextChange change : changes) {
            IommuUnit unit = requireUnit(change.unitId());
            sets.computeIfAbsent(unit, u -> new java.util.LinkedHashSet<>()).addAll(InvalidationPlanner
                    .deviceContextChanged(unit.invalidationCapabilities(), change.device(), change.domainId(),
                            change.newlyPresent()));
            deviceTlbs.computeIfAbsent(unit, u -> new java.util.LinkedHashSet<>())
                    .addAll(deviceTlbAfter(unit, change.device(), change.newlyPresent()));
        }
        Map<IommuUnit, List<Invalidation>> batches = new LinkedHashMap<>();
        sets.forEach((unit, set) -> {
            set.addAll(deviceTlbs.get(unit)); // after every IOTLB invalidation of the batch
            if (!set.isEmpty()) {
                batches.put(unit, new ArrayList<>(set));
            }
        });
        return issue(batches);
    }

    @Override
    public FlushReportDTO flushDomain(String unitId, DomainId domainId) {
        IommuUnit unit = requireUnit(unitId);
        return issue(Map.of(unit, withDeviceTlbs(List.of(new Invalidation.Domain(domainId)),
                InvalidationPlanner.wholeDeviceTlbs(unit.deviceTlbs(domainId)))));
    }

    private java.util.Optional<IommuUnit> unit(String unitId) {
        IommuUnit unit = units.get(unitId);
        if (unit != null || context == null) {
            return java.util.Optional.ofNullable(unit);
        }
        // Service events reach components one after the other: the core may use a unit
        // registered an instant ago before this component's bind ran. The registry knows it.
        try {
            String filter = "(" + IommuUnit.UNIT_ID + "=" + unitId.replaceAll("([\\\\()*])", "\\\\$1") + ")";
            for (ServiceReference<IommuUnit> ref : context.getServiceReferences(IommuUnit.class, filter)) {
                IommuUnit found = context.getService(ref);
                if (found == null) {
                    continue;
                }
                if (units.putIfAbsent(unitId, found) == null && borrowed.putIfAbsent(unitId, ref) == null) {
                    return java.util.Optional.of(found);
                }
                context.ungetService(ref);
                return java.util.Optional.ofNullable(units.get(unitId));
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            log.debug("no registry lookup of unit {}: {}", unitId, e.getMessage());
        }
        return java.util.Optional.empty();
    }

    private IommuUnit requireUnit(String unitId) {
        return unit(unitId).orElseThrow(() -> new IommuException("unit '" + unitId
                + "' is not present: cannot invalidate its caches; present units are " + units.keySet()));
    }

    /** Issues every unit's batch first, then waits for all, so units work in parallel. */
    private FlushReportDTO issue(Map<IommuUnit, List<Invalidation>> batches) {
        Map<IommuUnit, CompletableFuture<Void>> pending = new LinkedHashMap<>();
        for (Map.Entry<IommuUnit, List<Invalidation>> e : batches.entrySet()) {
            pending.put(e.getKey(), e.getKey().invalidate(e.getValue()).toCompletableFuture());
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        List<InvalidationDTO> done = new ArrayList<>();
        for (Map.Entry<IommuUnit, CompletableFuture<Void>> e : pending.entrySet()) {
            String unitId = e.getKey().id();
            try {
                e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException ex) {
                log.warn("invalidation on unit {} did not complete within {} ms", unitId, timeoutMillis);
                throw new InvalidationException("invalidation on unit " + unitId + " did not complete within "
                        + timeoutMillis + " ms");
            } catch (ExecutionException ex) {
                Throwable cause = ex.getCause() == null ? ex : ex.getCause();
                log.warn("invalidation on unit {} failed: {}", unitId, cause.getMessage());
                throw new InvalidationException("invalidation on unit " + unitId + " failed: " + cause.getMessage(), cause);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new InvalidationException("interrupted while waiting for unit " + unitId + " to invalidate");
            }
            for (Invalidation inv : batches.get(e.getKey())) {
                done.add(describe(unitId, inv));
            }
        }
        FlushReportDTO report = new FlushReportDTO();
        report.invalidations = done;
        return report;
    }

    static InvalidationDTO describe(String unitId, Invalidation inv) {
        InvalidationDTO dto = new InvalidationDTO();
        dto.unit = unitId;
        dto.granularity = inv.granularity();
        if (inv instanceof Invalidation.Device d) {
            dto.did = d.domainId().value();
            dto.bdf = d.device().toString();
        } else if (inv instanceof Invalidation.Domain d) {
            dto.did = d.domainId().value();
        } else if (inv instanceof Invalidation.Pages p) {
            dto.did = p.domainId().value();
            dto.iova = p.iova();
            dto.pages = p.pages();
        } else if (inv instanceof Invalidation.DeviceTlb t) {
            dto.bdf = t.device().toString();
            if (!t.whole()) {
                dto.iova = t.iova();
                dto.pages = 1L << t.order();
            }
        }
        return dto;
    }
}
