package iommu.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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

/** A unit that claims an explicit list of endpoints and keeps context entries the way a unit would. */
public class TestUnit implements IommuUnit {
    public final String id;
    final int dids;
    public final Set<PciAddress> endpoints = new TreeSet<>();
    public final Map<PciAddress, DeviceContext> contexts = new TreeMap<>();
    public final List<String> events;

    public TestUnit(String id, int dids, List<String> events) {
        this.id = id;
        this.dids = dids;
        this.events = events;
    }

    /** Adds {@code count} functions on {@code bus}, 8 per device number. */
    public TestUnit withDevices(int bus, int count) {
        for (int i = 0; i < count; i++) {
            endpoints.add(new PciAddress(0, bus + i / 256, (i % 256) >> 3, i & 7));
        }
        return this;
    }

    public List<PciAddress> deviceList() {
        return new ArrayList<>(endpoints);
    }

    @Override public String id() { return id; }
    @Override public String vendor() { return "test"; }
    @Override public int segment() { return 0; }
    @Override public long registerBase() { return 0xfed90000L; }
    @Override public boolean includePciAll() { return false; }
    @Override public int domainIdCount() { return dids; }
    @Override public Set<DomainId> reservedDomainIds() { return Set.of(DomainId.of(0)); }

    @Override
    public ScopeMatch scopeOf(PciAddress device) {
        return endpoints.contains(device) ? ScopeMatch.ENDPOINT : ScopeMatch.NONE;
    }

    @Override public List<PciAddress> devices() { return deviceList(); }
    public final Set<PciAddress> reservedMemory = new TreeSet<>();
    @Override public boolean hasReservedMemory(PciAddress device) { return reservedMemory.contains(device); }

    @Override
    public synchronized void setContext(PciAddress device, DeviceContext context) {
        if (!endpoints.contains(device)) {
            throw new IllegalArgumentException("device " + device + " is not translated by unit " + id);
        }
        if (context.domainId().value() == 0 || context.domainId().value() >= dids) {
            throw new IllegalArgumentException("domain id " + context.domainId() + " not usable on unit " + id);
        }
        contexts.put(device, context);
        events.add(id + " set " + device + " did " + context.domainId() + " guest " + context.guest());
    }

    @Override
    public synchronized void clearContext(PciAddress device) {
        contexts.remove(device);
        events.add(id + " clear " + device);
    }

    @Override
    public synchronized Optional<DeviceContext> context(PciAddress device) {
        return Optional.ofNullable(contexts.get(device));
    }

    @Override
    public InvalidationCapabilities invalidationCapabilities() {
        return new InvalidationCapabilities(false, true, 9, true);
    }

    @Override
    public CompletionStage<Void> invalidate(List<Invalidation> batch) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        events.add(String.format("%s map guest %s 0x%x->0x%x x%d", id, guest, iova, hostAddress, pages));
    }

    @Override
    public void unmap(GuestId guest, long iova, long pages) {
        events.add(String.format("%s unmap guest %s 0x%x x%d", id, guest, iova, pages));
    }
    @Override public Translation translate(PciAddress device, long iova) { return Translation.fault(iova, 2, "n/a"); }
    @Override public Map<String, Long> invalidationCounts() { return Map.of(); }
}
