package iommu.vtd;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.InvalidationException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;
import iommu.api.spi.InvalidationCapabilities;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.Translation;

/**
 * One Intel VT-d DMA-remapping hardware unit (DRHD): its context entries,
 * the guests' I/O page tables and an IOTLB tagged by (domain id, page).
 * Thread-safe: every state change and every translation holds the unit's lock.
 */
public final class VtdUnit implements IommuUnit {

    public static final String VENDOR_NAME = "vt-d";
    /** IOTLB entries before the least recently used one is evicted. */
    static final int IOTLB_ENTRIES = 1024;
    /** The most pages one map or unmap call may cover (4 GiB). */
    static final long MAX_PAGES = 1L << 20;
    private static final int PAGE_SHIFT = 12;
    private static final long PAGE_MASK = (1L << PAGE_SHIFT) - 1;
    /** Host-physical addresses have at most 52 bits on VT-d. */
    private static final int HOST_ADDRESS_BITS = 52;
    private static final Set<DomainId> RESERVED = Set.of(DomainId.of(0));

    private final UnitDefinition definition;
    private final String source;
    private final UnitDirectory directory;

    private final Object lock = new Object();
    private final ContextTable contexts = new ContextTable();
    private final IoPageTables pageTables = new IoPageTables();
    private final Iotlb iotlb = new Iotlb(IOTLB_ENTRIES);
    private final Map<String, Long> counts = new LinkedHashMap<>();

    VtdUnit(UnitDefinition definition, String source, UnitDirectory directory) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.source = Objects.requireNonNull(source, "source");
        this.directory = Objects.requireNonNull(directory, "directory");
        for (String granularity : List.of("device", "domain", "pages", "global")) {
            counts.put(granularity, 0L);
        }
    }

    public UnitDefinition definition() {
        return definition;
    }

    /** Where the unit came from: the platform file, or a configuration's PID. */
    public String source() {
        return source;
    }

    public Capability capability() {
        return definition.cap();
    }

    public ExtendedCapability extendedCapability() {
        return definition.ecap();
    }

    @Override
    public String id() {
        return definition.id();
    }

    @Override
    public String vendor() {
        return VENDOR_NAME;
    }

    @Override
    public int segment() {
        return definition.segment();
    }

    @Override
    public long registerBase() {
        return definition.registerBase();
    }

    @Override
    public boolean includePciAll() {
        return definition.includePciAll();
    }

    @Override
    public int domainIdCount() {
        return definition.domainIdCount();
    }

    /** DID 0 always, as Linux does (with caching mode the hardware tags invalid entries with it). */
    @Override
    public Set<DomainId> reservedDomainIds() {
        return RESERVED;
    }

    @Override
    public ScopeMatch scopeOf(PciAddress device) {
        return definition.scopeOf(Objects.requireNonNull(device, "device"));
    }

    /** Whether the device is present and this unit has the strongest claim on it. */
    public boolean translates(PciAddress device) {
        return directory.inventory().isDevice(device)
                && directory.bestClaimant(device).map(u -> u == this).orElse(false);
    }

    @Override
    public boolean hasReservedMemory(PciAddress device) {
        return false; // no RMRR source yet: platform files and DMAR tables bring them
    }

    @Override
    public List<PciAddress> devices() {
        return directory.inventory().devices().stream()
                .filter(d -> d.segment() == segment())
                .filter(this::translates)
                .toList();
    }

    @Override
    public void setContext(PciAddress device, DeviceContext context) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(context, "context");
        int did = context.domainId().value();
        if (did >= domainIdCount()) {
            throw new IllegalArgumentException(String.format(
                    "domain id %d out of range on unit %s: expected 1..%d (ND=%d)",
                    did, id(), domainIdCount() - 1, capability().nd()));
        }
        if (RESERVED.contains(context.domainId())) {
            throw new IllegalArgumentException("domain id " + did + " is reserved on unit " + id()
                    + ": expected 1.." + (domainIdCount() - 1));
        }
        requireTranslated(device);
        synchronized (lock) {
            contexts.set(device, context);
        }
    }

    @Override
    public void clearContext(PciAddress device) {
        Objects.requireNonNull(device, "device");
        synchronized (lock) {
            if (contexts.get(device).isPresent()) {
                contexts.clear(device);
                return;
            }
        }
        requireTranslated(device);
    }

    @Override
    public Optional<DeviceContext> context(PciAddress device) {
        Objects.requireNonNull(device, "device");
        synchronized (lock) {
            return contexts.get(device);
        }
    }

    @Override
    public InvalidationCapabilities invalidationCapabilities() {
        Capability cap = capability();
        return new InvalidationCapabilities(cap.cachingMode(), cap.pageSelective(), cap.maxAddressMaskValue(),
                extendedCapability().queuedInvalidation());
    }

    /**
     * Carries out the batch: every request is checked first (a domain id
     * beyond the unit's range fails the whole batch, nothing done), then each
     * is counted by granularity and drops what the IOTLB holds for it. A
     * page-selective request falls back to domain-selective when CAP.PSI is
     * clear or the order exceeds CAP.MAMV, as the hardware does. There is no
     * context cache yet, so a device-selective request only counts.
     */
    @Override
    public CompletionStage<Void> invalidate(List<Invalidation> batch) {
        Objects.requireNonNull(batch, "batch");
        for (Invalidation inv : batch) {
            if (inv == null) {
                return CompletableFuture.failedFuture(new InvalidationException(
                        "unit " + id() + ": null invalidation in batch: expected device, domain, pages or global"));
            }
            DomainId did = domainIdOf(inv);
            if (did != null && did.value() >= domainIdCount()) {
                return CompletableFuture.failedFuture(new InvalidationException(String.format(
                        "unit %s: %s invalidation of domain id %d out of range: expected 0..%d",
                        id(), inv.granularity(), did.value(), domainIdCount() - 1)));
            }
        }
        synchronized (lock) {
            for (Invalidation inv : batch) {
                counts.merge(inv.granularity(), 1L, Long::sum);
                if (inv instanceof Invalidation.Domain d) {
                    iotlb.invalidateDomain(d.domainId().value());
                } else if (inv instanceof Invalidation.Pages p) {
                    if (capability().pageSelective() && p.order() <= capability().maxAddressMaskValue()) {
                        iotlb.invalidatePages(p.domainId().value(), p.iova() >>> PAGE_SHIFT, p.order());
                    } else {
                        iotlb.invalidateDomain(p.domainId().value());
                    }
                } else if (inv instanceof Invalidation.Global) {
                    iotlb.invalidateAll();
                }
                // Invalidation.Device: there is no context cache in this version, it only counts
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    private static DomainId domainIdOf(Invalidation inv) {
        if (inv instanceof Invalidation.Device d) {
            return d.domainId();
        } else if (inv instanceof Invalidation.Domain d) {
            return d.domainId();
        } else if (inv instanceof Invalidation.Pages p) {
            return p.domainId();
        }
        return null;
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        checkRange("map", guest, iova, pages);
        if ((hostAddress & PAGE_MASK) != 0 || hostAddress < 0
                || (hostAddress >>> PAGE_SHIFT) + pages > 1L << (HOST_ADDRESS_BITS - PAGE_SHIFT)) {
            throw new IllegalArgumentException(String.format(
                    "map on unit %s: host address 0x%x for %d pages invalid: expected a 4 KiB-aligned range below 2^%d",
                    id(), hostAddress, pages, HOST_ADDRESS_BITS));
        }
        long first = iova >>> PAGE_SHIFT;
        synchronized (lock) {
            OptionalLong mapped = pageTables.firstMapped(guest, first, pages);
            if (mapped.isPresent()) {
                long page = mapped.getAsLong();
                throw new IllegalArgumentException(String.format(
                        "map on unit %s: IOVA 0x%x of guest %s already mapped to 0x%x: expected it unmapped first",
                        id(), page << PAGE_SHIFT, guest, pageTables.lookup(guest, page).getAsLong() << PAGE_SHIFT));
            }
            pageTables.map(guest, first, hostAddress >>> PAGE_SHIFT, pages);
        }
    }

    /**
     * Unmaps whatever is mapped of the range (unmapped pages are skipped). The
     * IOTLB keeps what it cached until the caller invalidates it.
     */
    @Override
    public void unmap(GuestId guest, long iova, long pages) {
        checkRange("unmap", guest, iova, pages);
        synchronized (lock) {
            pageTables.unmap(guest, iova >>> PAGE_SHIFT, pages);
        }
    }

    private void checkRange(String op, GuestId guest, long iova, long pages) {
        Objects.requireNonNull(guest, "guest");
        if (guest.isHost()) {
            throw new IllegalArgumentException(op + " on unit " + id()
                    + ": the host (guest 0) has no I/O page table, its devices are in pass-through: expected a guest 1.."
                    + GuestId.MAX);
        }
        if (pages < 1 || pages > MAX_PAGES) {
            throw new IllegalArgumentException(op + " on unit " + id() + ": " + pages
                    + " pages out of range: expected 1.." + MAX_PAGES);
        }
        int mgaw = capability().mgaw();
        if ((iova & PAGE_MASK) != 0 || iova < 0
                || (mgaw < 64 && (iova >>> PAGE_SHIFT) + pages > 1L << (mgaw - PAGE_SHIFT))) {
            throw new IllegalArgumentException(String.format(
                    "%s on unit %s: IOVA 0x%x for %d pages invalid: expected a 4 KiB-aligned range below 2^%d (MGAW)",
                    op, id(), iova, pages, mgaw));
        }
    }

    @Override
    public Translation translate(PciAddress device, long iova) {
        Objects.requireNonNull(device, "device");
        Optional<DeviceContext> context;
        synchronized (lock) {
            context = contexts.get(device);
        }
        if (context.isEmpty()) {
            requireTranslated(device);
        }
        int mgaw = capability().mgaw();
        long page = iova >>> PAGE_SHIFT;
        synchronized (lock) {
            // re-read under the lock that also guards the IOTLB, so a translation is one atomic walk:
            // context entry first, then the address width, then IOTLB and page table
            context = contexts.get(device);
            if (context.isEmpty()) {
                return fault(device, iova, FaultReason.CONTEXT_NOT_PRESENT);
            }
            if (mgaw < 64 && (iova >>> mgaw) != 0) {
                return fault(device, iova, FaultReason.BEYOND_MGAW);
            }
            int did = context.get().domainId().value();
            OptionalLong cached = iotlb.lookup(did, page);
            if (cached.isPresent()) {
                return Translation.hit(iova, cached.getAsLong() << PAGE_SHIFT | (iova & PAGE_MASK));
            }
            OptionalLong walked = pageTables.lookup(context.get().guest(), page);
            if (walked.isEmpty()) {
                return fault(device, iova, FaultReason.PTE_READ_NOT_SET);
            }
            iotlb.fill(did, page, walked.getAsLong());
            return Translation.hit(iova, walked.getAsLong() << PAGE_SHIFT | (iova & PAGE_MASK));
        }
    }

    private Translation fault(PciAddress device, long iova, FaultReason reason) {
        return Translation.fault(iova, reason.code(), String.format(
                "%s: [DMA Read] Request device [%s] fault addr 0x%x [fault reason 0x%02x] %s",
                id(), device, iova, reason.code(), reason.text()));
    }

    @Override
    public Map<String, Long> invalidationCounts() {
        synchronized (lock) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(counts));
        }
    }

    /** How many translations the IOTLB holds now. */
    public int iotlbEntries() {
        synchronized (lock) {
            return iotlb.size();
        }
    }

    private void requireTranslated(PciAddress device) {
        if (translates(device)) {
            return;
        }
        if (!directory.inventory().isDevice(device)) {
            throw new IllegalArgumentException("unit " + id() + " does not translate " + device
                    + ": no such device on the platform, expected one of the devices it claims");
        }
        String owner = directory.bestClaimant(device)
                .map(u -> "unit " + u.id() + " claims it (" + u.scopeOf(device) + ")")
                .orElse("no unit claims it");
        throw new IllegalArgumentException("unit " + id() + " does not translate " + device + ": " + owner);
    }

    @Override
    public String toString() {
        return String.format("%s (vt-d, segment %04x, base 0x%x, %d domain ids%s)",
                id(), segment(), registerBase(), domainIdCount(), includePciAll() ? ", INCLUDE_PCI_ALL" : "");
    }
}
