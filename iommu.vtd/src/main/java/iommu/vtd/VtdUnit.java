package iommu.vtd;

import java.util.ArrayList;
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
 * One Intel VT-d DMA-remapping hardware unit (DRHD), as a driver sees it
 * and as the hardware behaves. The driver side (this class with
 * {@link ContextTable}, {@link IoPageTables} and an {@link Invalidator})
 * builds the root, context and I/O page tables in the unit's simulated
 * {@link PhysicalMemory} and talks to the hardware side
 * ({@link VtdHardware}) through its registers and that memory only; the
 * hardware translates DMA through the same tables, its context cache and its
 * IOTLB, so a missing invalidation shows as a stale translation.
 * Thread-safe: every state change and every translation holds the unit's lock.
 */
public final class VtdUnit implements IommuUnit {

    public static final String VENDOR_NAME = "vt-d";
    /** IOTLB entries before the least recently used one is evicted. */
    static final int IOTLB_ENTRIES = 1024;
    /** Context-cache entries before the least recently used one is evicted. */
    static final int CONTEXT_CACHE_ENTRIES = 64;
    /** Entries of each device's device-TLB (its ATC) before the least recently used one is evicted. */
    static final int DEVICE_TLB_ENTRIES = 64;
    /** VER when the platform does not say: 1.0. */
    static final int DEFAULT_VERSION = Registers.version(1, 0);
    /** Where the driver side allocates its tables in the unit's memory, and how many pages at most. */
    static final long TABLE_REGION = 0x40_0000_0000L;
    static final long TABLE_REGION_PAGES = 1L << 22;
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
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private final PhysicalMemory memory;
    private final VtdHardware hardware;
    /** The devices' ATS Enable bits and device-TLBs, which the hardware reaches over PCIe. */
    private final AtsEndpoints endpoints = new AtsEndpoints(DEVICE_TLB_ENTRIES);
    private final PageAllocator pages;
    private final ContextTable contexts;
    private final IoPageTables pageTables;
    /** The AW value of the unit's context entries, or -1 when CAP.SAGAW names none the model knows. */
    private final int addressWidth;
    /** Null when the unit has no invalidation at all (VT-d 6 or later without ECAP.QI). */
    private final Invalidator invalidator;
    /** The persistent GCMD bits the driver has set (what Linux keeps in iommu->gcmd). */
    private int gcmd;
    /** The devices the unit had when it left its registry; null while it is in it. */
    private volatile Set<PciAddress> leftWith;
    /** Null when the tables live on the heap only. */
    private final TableFile tableFile;
    /** How many present context entries the unit found in its table file at bring-up. */
    private final int inheritedEntries;

    VtdUnit(UnitDefinition definition, String source, UnitDirectory directory) {
        this(definition, source, directory, DEFAULT_VERSION);
    }

    /** A unit whose VER register reads {@code version} (major in bits 7:4, minor in 3:0). */
    VtdUnit(UnitDefinition definition, String source, UnitDirectory directory, int version) {
        this(definition, source, directory, version, null);
    }

    /**
     * A unit whose tables live in {@code tableFile} (null: on the heap). When
     * the file holds tables of a previous run, the unit inherits them as a
     * kdump kernel does (Linux's {@code copy_translation_tables}): it finds the
     * root table the file latched, walks every context entry and guest table,
     * rebuilds the driver's bookkeeping and its page allocator from what is
     * reachable, then brings the unit up on those tables. Present context
     * entries stay present: the platform adopts their domain ids.
     *
     * @throws IllegalArgumentException when the file's tables are damaged (an
     *         entry pointing outside the table region, at no guest's table, with
     *         a reserved or out-of-range domain id); the file is left as it is
     */
    VtdUnit(UnitDefinition definition, String source, UnitDirectory directory, int version, TableFile tableFile) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.source = Objects.requireNonNull(source, "source");
        this.directory = Objects.requireNonNull(directory, "directory");
        for (String granularity : List.of("device", "domain", "pages", "device-tlb", "global")) {
            counts.put(granularity, 0L);
        }
        Capability cap = definition.cap();
        ExtendedCapability ecap = definition.ecap();
        this.tableFile = tableFile;
        this.memory = tableFile == null ? new PhysicalMemory(HOST_ADDRESS_BITS)
                : new PhysicalMemory(HOST_ADDRESS_BITS, tableFile);
        this.hardware = new VtdHardware(cap, ecap, version, memory, CONTEXT_CACHE_ENTRIES, IOTLB_ENTRIES, endpoints);
        this.pages = new PageAllocator(memory, TABLE_REGION, TABLE_REGION_PAGES);
        this.addressWidth = addressWidthFor(cap);
        IoPageTables.Directory guestRoots = tableFile == null ? IoPageTables.Directory.NONE : tableFile::setGuestRoot;
        int levels = ContextEntry.levelsOf(Math.max(addressWidth, 0));
        this.pageTables = new IoPageTables(memory, pages, levels, guestRoots);
        if (tableFile != null && tableFile.inherited()) {
            this.contexts = new ContextTable(memory, pages, tableFile.rootTable());
            try {
                this.inheritedEntries = new InheritedTables(contexts, pageTables, pages, endpoints, definition.ecap(),
                        addressWidth, definition.domainIdCount()).adopt(tableFile);
            } catch (IllegalArgumentException e) {
                String where = "table file " + tableFile.path() + " refused: ";
                throw new IllegalArgumentException((e.getMessage().startsWith(where) ? "" : where) + e.getMessage()
                        + TableFile.REBUILD_HINT, e);
            }
        } else {
            this.contexts = new ContextTable(memory, pages);
            this.inheritedEntries = 0;
        }
        this.invalidator = bringUp(cap, ecap);
        if (tableFile != null) {
            // from now on the file has tables to inherit
            tableFile.setRootTable(contexts.rootTableAddress());
        }
    }

    /**
     * What Linux's {@code init_dmars} does: queued invalidation first when
     * ECAP.QI (register-based otherwise, none on VT-d 6+ without QI), the root
     * table latched with GCMD.SRTP, a global context-cache and IOTLB
     * invalidation, then translation enabled with GCMD.TE.
     */
    private Invalidator bringUp(Capability cap, ExtendedCapability ecap) {
        Invalidator chosen = null;
        if (ecap.queuedInvalidation()) {
            chosen = new InvalidationQueue(id(), hardware, memory, pages);
            command(Registers.GCMD_QIE, true, Registers.GSTS_QIES);
        } else if (hardware.hasRegisterInvalidation()) {
            chosen = new RegisterInvalidator(id(), hardware, ecap);
        }
        hardware.writeRegister(Registers.RTADDR, 8, contexts.rootTableAddress());
        command(Registers.GCMD_SRTP, false, Registers.GSTS_RTPS);
        if (chosen != null) {
            CompletableFuture<Void> flushed = new CompletableFuture<>();
            chosen.submit(List.of(
                    QueuedDescriptor.ContextCacheInvalidate.of(Registers.GRANULARITY_GLOBAL, 0, 0, 0),
                    InvalidationRequests.iotlb(cap, Registers.GRANULARITY_GLOBAL, 0, 0, 0)), flushed);
            List<Runnable> completions = new ArrayList<>();
            chosen.poll(completions);
            completions.forEach(Runnable::run);
            if (!flushed.isDone() || flushed.isCompletedExceptionally()) {
                throw new IllegalStateException("unit " + id() + ": the global invalidation at bring-up did not complete");
            }
        }
        command(Registers.GCMD_TE, true, Registers.GSTS_TES);
        hardware.resetCounters(); // counters count what the platform asked for, not the bring-up
        return chosen;
    }

    /** Writes GCMD (the persistent bits set so far plus {@code bit}) and checks GSTS shows {@code status}. */
    private void command(int bit, boolean persistent, int status) {
        if (persistent) {
            gcmd |= bit;
        }
        hardware.writeRegister(Registers.GCMD, 4, gcmd | bit);
        if ((hardware.readRegister(Registers.GSTS, 4) & status) == 0) {
            throw new IllegalStateException(String.format("unit %s: GSTS 0x%08x does not show the GCMD 0x%08x just written",
                    id(), hardware.readRegister(Registers.GSTS, 4), bit));
        }
    }

    /**
     * The AW the unit's context entries use, as Linux chooses it: the
     * adjusted width of MGAW (39, 48 or 57 bits) when CAP.SAGAW supports it,
     * else the next wider supported one, else the widest narrower one; -1
     * when SAGAW names none of 30, 39, 48, 57 bits.
     */
    static int addressWidthFor(Capability cap) {
        int wanted = Math.max(0, Math.min(3, (cap.mgaw() - 30 + 8) / 9));
        for (int aw = wanted; aw <= 3; aw++) {
            if (Capability.bit(cap.sagaw(), aw)) {
                return aw;
            }
        }
        for (int aw = wanted - 1; aw >= 0; aw--) {
            if (Capability.bit(cap.sagaw(), aw)) {
                return aw;
            }
        }
        return -1;
    }

    /** The guest address width the unit translates: min(MGAW, the width of its AW). */
    int guestAddressWidth() {
        return addressWidth < 0 ? capability().mgaw()
                : Math.min(capability().mgaw(), ContextEntry.widthOf(addressWidth));
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
        // a VF is matched through its PF (Linux device_lookup_iommu, Xen acpi_find_matched_drhd_unit)
        return definition.scopeOf(directory.inventory().scopedAs(Objects.requireNonNull(device, "device")));
    }

    /**
     * The requester ids the device's DMA reaches this unit with, as Linux's
     * {@code pci_for_each_dma_alias} walks them ({@link DmaAliases}); empty
     * when the unit does not translate the device.
     */
    @Override
    public List<PciAddress> dmaAliases(PciAddress device) {
        Objects.requireNonNull(device, "device");
        return translates(device) ? DmaAliases.of(directory.inventory(), device) : List.of();
    }

    /** Whether the id is an alias, not the own id, of a device this unit translates. */
    private boolean isAliasOfOwnDevice(PciAddress requester) {
        return requester.segment() == segment()
                && DmaAliases.isAliasOfAny(directory.inventory(), requester, this::translates);
    }

    /**
     * Whether the device is present and this unit has the strongest claim on
     * it; while the unit is leaving (out of its registry, its service going),
     * whether it was the unit's when it left.
     */
    public boolean translates(PciAddress device) {
        Set<PciAddress> left = leftWith;
        if (left != null) {
            return left.contains(device);
        }
        return directory.inventory().isDevice(device)
                && directory.bestClaimant(device).map(u -> u == this).orElse(false);
    }

    /**
     * The unit leaves its registry with these devices (null: it stays after
     * all): until its service is gone, a user rolling back what it did (a
     * detach whose invalidation failed puts the entry back) must still find
     * the unit taking its own devices, though other units claim them now.
     */
    void leaving(Set<PciAddress> devices) {
        leftWith = devices;
    }

    @Override
    public boolean hasReservedMemory(PciAddress device) {
        return directory.hasReservedMemory(Objects.requireNonNull(device, "device")); // the DMAR's RMRRs
    }

    /**
     * The interrupt window and the device's RMRRs, as Linux's
     * {@code intel_iommu_get_resv_regions} reports them (an RMRR as
     * IOMMU_RESV_DIRECT: the inventory does not know the device's class, which
     * Linux's {@code device_rmrr_is_relaxable} reads for USB and graphics).
     */
    @Override
    public List<iommu.api.spi.IovaRegion> reservedRegions(PciAddress device) {
        if (!scopeOf(device).claims()) {
            return List.of();
        }
        List<iommu.api.spi.IovaRegion> regions = new ArrayList<>();
        for (ReservedRegion r : directory.reservedMemoryOf(device)) {
            regions.add(new iommu.api.spi.IovaRegion(r.base(), r.limit(), iommu.api.spi.IovaRegion.Type.DIRECT));
        }
        regions.add(iommu.api.spi.IovaRegion.INTERRUPT_WINDOW);
        regions.sort(java.util.Comparator.comparingLong(iommu.api.spi.IovaRegion::first));
        return List.copyOf(regions);
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
        requireRequester(device);
        requireAddressWidth();
        int sid = device.routingId();
        int tt = translationType(device, context);
        synchronized (lock) {
            ContextEntry old = contexts.read(sid);
            // one 128-bit write replaces a present entry in place: the device never sees a half-written one
            contexts.write(sid, entryFor(context, tt));
            if (old.present()) {
                if (old.translationType() != ContextEntry.TT_PASS_THROUGH) {
                    pageTables.guestAt(old.secondLevelPointer()).ifPresent(pageTables::unreference);
                }
            }
            flushWriteBuffer();
            // ATS enabled once the entry lets translation requests through (Linux iommu_enable_pci_caps)
            endpoints.enable(sid, tt == ContextEntry.TT_DEVICE_TLB);
        }
    }

    /**
     * The one place the translation type of an entry is chosen: the host's in
     * pass-through where ECAP.PT allows it (Linux {@code hw_pass_through},
     * {@code context_setup_pass_through}); else TT=1 for a requester that
     * uses its device-TLB, TT=0 otherwise (Linux
     * {@code domain_context_mapping_one}: {@code info->ats_supported ?
     * CONTEXT_TT_DEV_IOTLB : CONTEXT_TT_MULTI_LEVEL}).
     */
    private int translationType(PciAddress requester, DeviceContext context) {
        if (context.isHost() && hostTranslation() == iommu.api.spi.HostTranslation.PASS_THROUGH) {
            return ContextEntry.TT_PASS_THROUGH;
        }
        return hasDeviceTlb(requester) ? ContextEntry.TT_DEVICE_TLB : ContextEntry.TT_UNTRANSLATED;
    }

    /** The entry a context is written as, with its translation type. */
    private ContextEntry entryFor(DeviceContext context, int tt) {
        int did = context.domainId().value();
        if (tt == ContextEntry.TT_PASS_THROUGH) {
            return new ContextEntry(true, false, ContextEntry.TT_PASS_THROUGH, 0, addressWidth, did);
        }
        long root = context.isHost() ? HostIdentityTable.rootOn(pageTables) : pageTables.rootOf(
                context.guest());
        pageTables.reference(context.guest());
        return new ContextEntry(true, false, tt, root, addressWidth, did);
    }

    /**
     * Pass-through where ECAP.PT allows it, else an identity-mapped table
     * (Linux {@code si_domain} when {@code !hw_pass_through}).
     */
    @Override
    public iommu.api.spi.HostTranslation hostTranslation() {
        return extendedCapability().passThrough() ? iommu.api.spi.HostTranslation.PASS_THROUGH
                : iommu.api.spi.HostTranslation.IDENTITY;
    }

    /**
     * Whether the device uses its device-TLB: a device of this unit for which
     * {@link AtsReports#usesAts} says so (ECAP.DT and QI, its ATS capability,
     * an ATSR root port or a SATC: Linux {@code dmar_ats_supported}).
     */
    @Override
    public boolean hasDeviceTlb(PciAddress device) {
        Objects.requireNonNull(device, "device");
        return translates(device)
                && directory.atsReports().usesAts(extendedCapability(), directory.inventory(), device);
    }

    /** The devices with a device-TLB whose present context entry holds the domain id, read from the tables. */
    @Override
    public List<PciAddress> deviceTlbs(DomainId domainId) {
        Objects.requireNonNull(domainId, "domainId");
        List<PciAddress> found = new ArrayList<>();
        for (PciAddress device : devices()) {
            if (hasDeviceTlb(device)) {
                ContextEntry entry = contextEntry(device);
                if (entry.present() && entry.domainId() == domainId.value()) {
                    found.add(device);
                }
            }
        }
        return found;
    }

    @Override
    public void clearContext(PciAddress device) {
        Objects.requireNonNull(device, "device");
        int sid = device.routingId();
        synchronized (lock) {
            ContextEntry old = device.segment() == segment() ? contexts.read(sid) : ContextEntry.decode(0, 0);
            if (old.present()) {
                endpoints.enable(sid, false); // before the entry goes (Linux device_block_translation)
                contexts.clear(sid);
                if (old.translationType() != ContextEntry.TT_PASS_THROUGH) {
                    pageTables.guestAt(old.secondLevelPointer()).ifPresent(pageTables::unreference);
                }
                flushWriteBuffer();
                return;
            }
        }
        requireRequester(device);
    }

    /** Without caching mode, a unit with CAP.RWBF needs its write buffer flushed after table updates (Linux). */
    private void flushWriteBuffer() {
        if (capability().rwbf() && !capability().cachingMode()) {
            hardware.writeRegister(Registers.GCMD, 4, gcmd | Registers.GCMD_WBF);
        }
    }

    /** Reads the device's context entry back from the unit's memory and names the guest its table root belongs to. */
    @Override
    public Optional<DeviceContext> context(PciAddress device) {
        Objects.requireNonNull(device, "device");
        if (device.segment() != segment()) {
            return Optional.empty();
        }
        synchronized (lock) {
            ContextEntry entry = contexts.read(device.routingId());
            if (!entry.present()) {
                return Optional.empty();
            }
            if (entry.translationType() == ContextEntry.TT_PASS_THROUGH) {
                return Optional.of(DeviceContext.host(DomainId.of(entry.domainId())));
            }
            GuestId guest = pageTables.guestAt(entry.secondLevelPointer()).orElseThrow(() -> new IllegalStateException(
                    String.format("unit %s: the context entry of %s points at 0x%x, which is no guest's I/O page table",
                            id(), device, entry.secondLevelPointer())));
            return Optional.of(new DeviceContext(DomainId.of(entry.domainId()), guest));
        }
    }

    /** VER, CAP and ECAP decoded field by field, as the VT-d specification names them. */
    @Override
    public Map<String, Object> describe() {
        Capability cap = capability();
        ExtendedCapability ecap = extendedCapability();
        long ver = readRegister(Registers.VER, 4);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", id());
        fields.put("vendor", vendor());
        fields.put("segment", segment());
        fields.put("registerBase", String.format("0x%x", registerBase()));
        fields.put("includePciAll", includePciAll());
        fields.put("source", source());
        fields.put("VER", String.format("%d.%d", ver >>> 4 & 0xF, ver & 0xF));
        fields.put("CAP", String.format("0x%x", cap.raw()));
        fields.put("CAP.ND", cap.nd());
        fields.put("NR_DID", cap.domainIdCount());
        fields.put("CAP.RWBF", cap.rwbf());
        fields.put("CAP.CM", cap.cachingMode());
        fields.put("CAP.SAGAW", String.format("0b%5s", Integer.toBinaryString(cap.sagaw())).replace(' ', '0'));
        fields.put("CAP.MGAW", cap.mgaw());
        fields.put("CAP.FRO", String.format("0x%x", cap.faultRecordingOffset()));
        fields.put("CAP.PSI", cap.pageSelective());
        fields.put("CAP.NFR", cap.faultRecords());
        fields.put("CAP.MAMV", cap.maxAddressMaskValue());
        fields.put("ECAP", String.format("0x%x", ecap.raw()));
        fields.put("ECAP.C", ecap.coherency());
        fields.put("ECAP.QI", ecap.queuedInvalidation());
        fields.put("ECAP.DT", ecap.deviceTlb());
        fields.put("ECAP.IR", ecap.interruptRemapping());
        fields.put("ECAP.EIM", ecap.extendedInterruptMode());
        fields.put("ECAP.PT", ecap.passThrough());
        fields.put("ECAP.SC", ecap.snoopControl());
        fields.put("ECAP.IRO", String.format("0x%x", ecap.iotlbRegisterOffset()));
        fields.put("addressWidth", String.format("AW %d: %d-bit, %d-level tables", addressWidth, 30 + 9 * addressWidth,
                2 + addressWidth));
        fields.put("invalidation", invalidationMechanism());
        fields.put("tables", tableFile == null ? "heap (lost when the process ends)"
                : tableFile.path() + (tableFile.inherited() ? " (inherited, " + inheritedEntries
                        + " present context entries found)" : tableFile.setAside() != null ? " (new: "
                                + tableFile.setAside() + ")" : ""));
        fields.put("contextCacheEntries", contextCacheEntries());
        fields.put("iotlbEntries", iotlbEntries());
        return fields;
    }

    /** The 128-bit context entry read back from the unit's memory, field by field. */
    @Override
    public Map<String, Object> describeContext(PciAddress device) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (!translates(device) && !isAliasOfOwnDevice(device)) {
            return fields;
        }
        ContextEntry entry = contextEntry(device);
        fields.put("bdf", device.toString());
        fields.put("unit", id());
        fields.put("sourceId", String.format("0x%04x", device.routingId()));
        fields.put("raw", String.format("0x%016x%016x", entry.high(), entry.low()));
        fields.put("present", entry.present());
        fields.put("FPD", entry.faultProcessingDisable());
        fields.put("TT", entry.translationType());
        fields.put("SLPTPTR", String.format("0x%x", entry.secondLevelPointer()));
        fields.put("AW", entry.addressWidth());
        fields.put("DID", entry.domainId());
        context(device).ifPresent(c -> fields.put("guest", c.guest().value()));
        if (hasDeviceTlb(device)) {
            synchronized (lock) {
                fields.put("ATS", endpoints.enabled(device.routingId()) ? "enabled" : "disabled");
                fields.put("deviceTlbEntries", endpoints.entries(device.routingId()));
            }
        }
        return fields;
    }

    /** The device's context entry as the unit's memory holds it, decoded (present or not). */
    ContextEntry contextEntry(PciAddress device) {
        Objects.requireNonNull(device, "device");
        synchronized (lock) {
            return contexts.read(device.routingId());
        }
    }

    @Override
    public InvalidationCapabilities invalidationCapabilities() {
        Capability cap = capability();
        return new InvalidationCapabilities(cap.cachingMode(), cap.pageSelective(), cap.maxAddressMaskValue(),
                extendedCapability().queuedInvalidation());
    }

    /**
     * Carries out the batch with the unit's own mechanism: every request is
     * checked first (a domain id beyond the unit's range, a device of another
     * segment, a device-TLB without device-TLB invalidation, fails the whole
     * batch, nothing done), counted by granularity, and turned into VT-d
     * invalidations ({@link InvalidationRequests}). With ECAP.QI they go to
     * the invalidation queue followed by one wait descriptor, and the stage
     * completes when the hardware writes the wait's status (exceptionally on
     * IQE, or on ITE: a device that did not answer its device-TLB
     * invalidation); otherwise through CCMD and the IOTLB register, one at a
     * time.
     */
    @Override
    public CompletionStage<Void> invalidate(List<Invalidation> batch) {
        Objects.requireNonNull(batch, "batch");
        for (Invalidation inv : batch) {
            String problem = InvalidationRequests.problem(this, inv);
            if (problem != null) {
                return CompletableFuture.failedFuture(new InvalidationException(problem));
            }
        }
        if (invalidator == null) {
            return CompletableFuture.failedFuture(new InvalidationException(String.format(
                    "unit %s: VT-d version %d.%d has no register-based invalidation and ECAP.QI is clear:"
                            + " it cannot invalidate", id(), hardware.readRegister(Registers.VER, 4) >>> 4 & 0xF,
                    hardware.readRegister(Registers.VER, 4) & 0xF)));
        }
        List<QueuedDescriptor> requests = new ArrayList<>();
        for (Invalidation inv : batch) {
            requests.addAll(InvalidationRequests.of(capability(), directory.inventory(), inv));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Runnable> completions = new ArrayList<>();
        synchronized (lock) {
            for (Invalidation inv : batch) {
                counts.merge(inv.granularity(), 1L, Long::sum);
            }
            invalidator.submit(requests, done);
            invalidator.poll(completions);
        }
        completions.forEach(Runnable::run);
        return done;
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        map(guest, iova, hostAddress, pages, true, true);
    }

    /**
     * Maps with the given rights (the API's map grants both); a page with
     * neither would be not present, so at least one is needed.
     */
    void map(GuestId guest, long iova, long hostAddress, long pages, boolean read, boolean write) {
        checkRange("map", guest, iova, pages);
        if ((hostAddress & PAGE_MASK) != 0 || hostAddress < 0
                || (hostAddress >>> PAGE_SHIFT) + pages > 1L << (HOST_ADDRESS_BITS - PAGE_SHIFT)) {
            throw new IllegalArgumentException(String.format(
                    "map on unit %s: host address 0x%x for %d pages invalid: expected a 4 KiB-aligned range below 2^%d",
                    id(), hostAddress, pages, HOST_ADDRESS_BITS));
        }
        if (!read && !write) {
            throw new IllegalArgumentException("map on unit " + id()
                    + ": neither read nor write granted: expected at least one (a page with neither is not present)");
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
            pageTables.map(guest, first, hostAddress >>> PAGE_SHIFT, pages, read, write);
            flushWriteBuffer();
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

    /** The guest's I/O page table walked as the driver wrote it (read and write rights are not told apart). */
    @Override
    public Optional<List<iommu.api.spi.MappedRange>> mappings(GuestId guest) {
        Objects.requireNonNull(guest, "guest");
        synchronized (lock) {
            return Optional.of(pageTables.runs(guest).stream()
                    .map(r -> new iommu.api.spi.MappedRange(r[0] << PAGE_SHIFT, r[1] << PAGE_SHIFT, r[2])).toList());
        }
    }

    /** A unit whose SAGAW names no width the model knows has no page-table format: nothing to write. */
    private void requireAddressWidth() {
        if (addressWidth < 0) {
            throw new IllegalStateException(String.format("unit %s cannot translate: CAP.SAGAW 0x%x names no address"
                    + " width of 30, 39, 48 or 57 bits", id(), capability().sagaw()));
        }
    }

    private void checkRange(String op, GuestId guest, long iova, long pages) {
        Objects.requireNonNull(guest, "guest");
        requireAddressWidth();
        if (guest.isHost()) {
            throw new IllegalArgumentException(op + " on unit " + id()
                    + ": the host (guest 0) has no I/O page table, its devices are in pass-through: expected a guest 1.."
                    + GuestId.MAX);
        }
        if (pages < 1 || pages > MAX_PAGES) {
            throw new IllegalArgumentException(op + " on unit " + id() + ": " + pages
                    + " pages out of range: expected 1.." + MAX_PAGES);
        }
        int width = guestAddressWidth();
        if ((iova & PAGE_MASK) != 0 || iova < 0
                || (width < 64 && (iova >>> PAGE_SHIFT) + pages > 1L << (width - PAGE_SHIFT))) {
            throw new IllegalArgumentException(String.format(
                    "%s on unit %s: IOVA 0x%x for %d pages invalid: expected a 4 KiB-aligned range below 2^%d (%s)",
                    op, id(), iova, pages, width, width == capability().mgaw() ? "MGAW" : "AGAW"));
        }
    }

    /** A DMA read of the device at {@code iova}. */
    @Override
    public Translation translate(PciAddress device, long iova) {
        return translate(device, iova, false);
    }

    /**
     * The DMA the device would do to {@code iova}, a read or a write, as the
     * hardware carries it out: root entry, context entry (through the context
     * cache), then the IOTLB or a walk of the I/O page table. A fault is
     * recorded in the fault recording registers (FSTS.PPF, FRI) unless the
     * context entry disables fault processing.
     */
    Translation translate(PciAddress device, long iova, boolean write) {
        Objects.requireNonNull(device, "device");
        if (iommu.api.spi.IovaRegion.INTERRUPT_WINDOW.overlaps(iova, 1)) {
            // never DMA-remapped: an interrupt request (write) or unsupported request (read)
            return Translation.interruptRange(iova, write);
        }
        // the fabric delivers the device's DMA with the last id of pci_for_each_dma_alias's walk
        PciAddress source = directory.inventory().isDevice(device) ? DmaAliases.seen(directory.inventory(), device)
                : device;
        boolean present;
        synchronized (lock) {
            present = source.segment() == segment() && contexts.read(source.routingId()).present();
        }
        if (!present) {
            requireTranslated(device);
        }
        synchronized (lock) {
            VtdHardware.Result result = endpoints.dma(hardware, source.routingId(), iova, write);
            if (!result.isFault()) {
                return Translation.hit(iova, result.hostAddress());
            }
            FaultReason reason = result.fault();
            return Translation.fault(iova, reason.code(), String.format(
                    "%s: [DMA %s] Request device [%s] fault addr 0x%x [fault reason 0x%02x] %s",
                    id(), write ? "Write" : "Read", source, iova, reason.code(), reason.text()));
        }
    }

    /**
     * How many invalidations of each granularity the unit received
     * ({@code device}, {@code domain}, {@code pages}, {@code global}), then
     * what the hardware performed ({@code performed.context.*},
     * {@code performed.iotlb.*}, {@code performed.wait}): a page-selective
     * request the unit cannot honour shows as {@code performed.iotlb.domain}.
     * The bring-up's global invalidation is not counted.
     */
    @Override
    public Map<String, Long> invalidationCounts() {
        synchronized (lock) {
            Map<String, Long> all = new LinkedHashMap<>(counts);
            all.putAll(hardware.performed());
            return Collections.unmodifiableMap(all);
        }
    }

    /** How many translations the IOTLB holds now. */
    int iotlbEntries() {
        synchronized (lock) {
            return hardware.iotlbSize();
        }
    }

    /** How many context entries the context cache holds now. */
    int contextCacheEntries() {
        synchronized (lock) {
            return hardware.contextCacheSize();
        }
    }

    /** {@code queued} (ECAP.QI) or {@code register}; {@code none} on VT-d 6+ without QI. */
    String invalidationMechanism() {
        return invalidator == null ? "none" : invalidator.mechanism();
    }

    // ---- registers ------------------------------------------------------------

    /**
     * Reads a register of the unit (offsets of DESIGN 10; {@code size} 4 or
     * 8), as the hardware answers: GCMD reads 0, GSTS shows the state,
     * FSTS.PPF and FRI reflect the fault records, reserved offsets read 0.
     */
    long readRegister(int offset, int size) {
        synchronized (lock) {
            return hardware.readRegister(offset, size);
        }
    }

    /**
     * Writes a register as software would, with the hardware's reaction (a
     * GCMD command, a CCMD or IOTLB invalidation, an IQT move, a
     * write-1-to-clear). The driver side then looks at what completed.
     * Writing behind the driver's back can break it, as on real hardware.
     */
    void writeRegister(int offset, int size, long value) {
        List<Runnable> completions = new ArrayList<>();
        synchronized (lock) {
            hardware.writeRegister(offset, size, value);
            if (invalidator != null) {
                invalidator.poll(completions);
            }
        }
        completions.forEach(Runnable::run);
    }

    // ---- hooks for tests: a slow or failing unit ------------------------------
    // Package-private: tests reach them directly, and other modules' tests through
    // StandaloneUnit in this module's test jar.

    /**
     * Test hook: from now on the hardware processes no invalidation (queued
     * descriptors stay between IQH and IQT, a CCMD/IOTLB command keeps
     * ICC/IVT set), so every stage {@link #invalidate} returns stays
     * incomplete until {@link #releaseInvalidations()}; translations meanwhile
     * still see what the caches hold.
     */
    void holdInvalidations() {
        synchronized (lock) {
            hardware.hold();
        }
    }

    /**
     * Test hook: the hardware processes everything held back and stops
     * holding; the stages of the finished batches complete (in this thread,
     * after the unit's lock is released).
     */
    void releaseInvalidations() {
        List<Runnable> completions = new ArrayList<>();
        synchronized (lock) {
            hardware.release();
            if (invalidator != null) {
                invalidator.poll(completions);
            }
        }
        completions.forEach(Runnable::run);
    }

    /**
     * Test hook: the next {@code n} context-cache or IOTLB invalidations the
     * hardware processes fail as it reports them (queued: FSTS.IQE with IQH
     * on the refused descriptor; registers: CAIG/IAIG 0). The batch holding
     * one completes exceptionally with an {@link InvalidationException}, its
     * remaining invalidations not carried out; other batches are unaffected.
     */
    void injectInvalidationErrors(int n) {
        synchronized (lock) {
            hardware.injectInvalidationErrors(n);
        }
    }

    /**
     * Test hook: the device answers device-TLB invalidation requests, or from
     * now on lets them time out (the hardware raises FSTS.ITE with its source
     * id in IQERCD.ITESID, the batch fails, its wait aborted).
     */
    void deviceAnswers(PciAddress device, boolean answers) {
        synchronized (lock) {
            endpoints.answers(Objects.requireNonNull(device, "device").routingId(), answers);
        }
    }

    /** How many translations the device's device-TLB holds now. */
    int deviceTlbEntries(PciAddress device) {
        synchronized (lock) {
            return endpoints.entries(Objects.requireNonNull(device, "device").routingId());
        }
    }

    /** Batches handed to the hardware whose completion was not seen yet. */
    int pendingInvalidationBatches() {
        synchronized (lock) {
            return invalidator == null ? 0 : invalidator.pendingBatches();
        }
    }

    /**
     * Whether the unit came up on the tables of its table file (kept from a
     * previous run): its present context entries are a record of their own.
     */
    @Override
    public boolean inheritedTables() {
        return tableFile != null && tableFile.inherited();
    }

    @Override
    public Optional<String> tablesSetAside() {
        return Optional.ofNullable(tableFile).map(TableFile::setAside);
    }

    /** The unit's file is new because the one there was refused and set aside ({@link RefusedTables}). */
    void tablesWereSetAside(String what) {
        tableFile.setAside(what);
    }

    /** The file the unit's tables live in, when they do. */
    Optional<java.nio.file.Path> tableFile() {
        return Optional.ofNullable(tableFile).map(TableFile::path);
    }

    /** Closes the table file: called once the unit's service is gone; the unit is not to be used after. */
    void close() {
        if (tableFile != null) {
            synchronized (lock) {
                tableFile.close();
            }
        }
    }

    /** The unit's simulated memory, for tests that check the tables bit by bit. */
    PhysicalMemory memory() {
        return memory;
    }

    Object lock() {
        return lock;
    }

    /** How many pages of the table region the driver has allocated. */
    long pagesInUse() {
        synchronized (lock) {
            return pages.pagesInUse();
        }
    }

    ContextTable contexts() {
        return contexts;
    }

    /** A requester id of {@link #setContext}: a device of the unit or one of its {@link #dmaAliases}. */
    private void requireRequester(PciAddress requester) {
        if (!isAliasOfOwnDevice(requester)) {
            requireTranslated(requester);
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
