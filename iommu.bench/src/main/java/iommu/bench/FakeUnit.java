package iommu.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.Translation;

/**
 * A unit reduced to what the core and the flush service call: it claims
 * {@code devices} endpoints on its own PCI segment, keeps context entries in a
 * hash map, and completes every invalidation batch at once (counting them). In
 * caching mode, so that an attach flushes too. Its costs are small and flat,
 * so that the benchmarks measure the platform's own.
 */
final class FakeUnit implements IommuUnit {

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    private static final InvalidationCapabilities CAPS = new InvalidationCapabilities(true, true, 9, true);

    private final String id;
    private final int segment;
    private final int domainIds;
    private final List<PciAddress> devices;
    private final Set<PciAddress> claimed;
    private final Map<PciAddress, DeviceContext> contexts = new HashMap<>();
    private long invalidations;

    FakeUnit(int index, int domainIds, int devices) {
        if (devices > 0x10000) {
            throw new IllegalArgumentException(devices + " devices do not fit one segment's 65,536 routing ids");
        }
        this.id = "dmar" + index;
        this.segment = index;
        this.domainIds = domainIds;
        List<PciAddress> list = new ArrayList<>(devices);
        for (int rid = 0; rid < devices; rid++) {
            list.add(PciAddress.ofRoutingId(segment, rid));
        }
        this.devices = List.copyOf(list);
        this.claimed = new HashSet<>(list);
    }

    /** The unit's n-th device (0-based). */
    PciAddress device(int n) {
        return devices.get(n);
    }

    synchronized long invalidations() {
        return invalidations;
    }

    @Override public String id() { return id; }
    @Override public String vendor() { return "bench"; }
    @Override public int segment() { return segment; }
    @Override public long registerBase() { return 0xfed90000L + ((long) segment << 12); }
    @Override public boolean includePciAll() { return false; }
    @Override public int domainIdCount() { return domainIds; }
    @Override public Set<DomainId> reservedDomainIds() { return Set.of(DomainId.of(0)); }

    @Override
    public ScopeMatch scopeOf(PciAddress device) {
        return claimed.contains(device) ? ScopeMatch.ENDPOINT : ScopeMatch.NONE;
    }

    @Override
    public List<PciAddress> devices() {
        return devices;
    }

    @Override
    public boolean hasReservedMemory(PciAddress device) {
        return false;
    }

    @Override
    public synchronized void setContext(PciAddress device, DeviceContext context) {
        if (!claimed.contains(device)) {
            throw new IllegalArgumentException("device " + device + " is not translated by unit " + id);
        }
        int did = context.domainId().value();
        if (did == 0 || did >= domainIds) {
            throw new IllegalArgumentException("domain id " + did + " not usable on unit " + id);
        }
        contexts.put(device, context);
    }

    @Override
    public synchronized void clearContext(PciAddress device) {
        contexts.remove(device);
    }

    @Override
    public synchronized Optional<DeviceContext> context(PciAddress device) {
        return Optional.ofNullable(contexts.get(device));
    }

    @Override
    public InvalidationCapabilities invalidationCapabilities() {
        return CAPS;
    }

    @Override
    public synchronized CompletionStage<Void> invalidate(List<Invalidation> batch) {
        invalidations += batch.size();
        return DONE;
    }

    @Override public void map(GuestId guest, long iova, long hostAddress, long pages) { }
    @Override public void unmap(GuestId guest, long iova, long pages) { }

    @Override
    public Translation translate(PciAddress device, long iova) {
        return Translation.fault(iova, 2, "not modelled");
    }

    @Override
    public synchronized Map<String, Long> invalidationCounts() {
        return Map.of("all", invalidations);
    }
}
