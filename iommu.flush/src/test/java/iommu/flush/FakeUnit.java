package iommu.flush;

import java.util.ArrayList;
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

/** Records the invalidations it receives; completion can be held back or failed. */
class FakeUnit implements IommuUnit {
    final String id;
    final InvalidationCapabilities caps;
    final List<Invalidation> received = new ArrayList<>();
    final List<List<Invalidation>> batches = new ArrayList<>();
    CompletableFuture<Void> completion = CompletableFuture.completedFuture(null);
    /** Devices with a device-TLB, and which of them hold each domain id. */
    final Set<PciAddress> deviceTlbDevices = new java.util.HashSet<>();
    final Map<DomainId, List<PciAddress>> deviceTlbsOf = new java.util.HashMap<>();

    FakeUnit(String id, InvalidationCapabilities caps) {
        this.id = id;
        this.caps = caps;
    }

    @Override public String id() { return id; }
    @Override public String vendor() { return "fake"; }
    @Override public int segment() { return 0; }
    @Override public long registerBase() { return 0; }
    @Override public boolean includePciAll() { return false; }
    @Override public int domainIdCount() { return 256; }
    @Override public Set<DomainId> reservedDomainIds() { return Set.of(DomainId.of(0)); }
    @Override public ScopeMatch scopeOf(PciAddress device) { return ScopeMatch.NONE; }
    @Override public List<PciAddress> devices() { return List.of(); }
    @Override public boolean hasReservedMemory(PciAddress device) { return false; }
    @Override public void setContext(PciAddress device, DeviceContext context) { }
    @Override public void clearContext(PciAddress device) { }
    @Override public Optional<DeviceContext> context(PciAddress device) { return Optional.empty(); }
    @Override public InvalidationCapabilities invalidationCapabilities() { return caps; }
    @Override public boolean hasDeviceTlb(PciAddress device) { return deviceTlbDevices.contains(device); }
    @Override public List<PciAddress> deviceTlbs(DomainId did) { return deviceTlbsOf.getOrDefault(did, List.of()); }

    @Override
    public synchronized CompletionStage<Void> invalidate(List<Invalidation> batch) {
        received.addAll(batch);
        batches.add(List.copyOf(batch));
        return completion;
    }

    @Override public void map(GuestId guest, long iova, long hostAddress, long pages) { }
    @Override public void unmap(GuestId guest, long iova, long pages) { }
    @Override public Translation translate(PciAddress device, long iova) { return Translation.fault(iova, 2, "none"); }
    @Override public Map<String, Long> invalidationCounts() { return Map.of(); }
}
