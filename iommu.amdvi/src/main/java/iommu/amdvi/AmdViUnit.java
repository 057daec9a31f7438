package iommu.amdvi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
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
 * One AMD-Vi IOMMU (an IVHD), as its driver sees it and as the hardware
 * behaves. The driver side (this class, {@link IoPageTables},
 * {@link CommandBuffer}) writes the device table, the I/O page tables and
 * the commands into the unit's {@link Memory} and programs its MMIO
 * registers; the hardware side ({@link AmdViHardware}) translates DMA through
 * the same memory, its DTE cache and its IOTLB, so a skipped invalidation
 * shows as a stale translation.
 *
 * <p>A device whose DMA arrives with another requester id (an IVHD alias,
 * e.g. behind a PCIe-to-PCI bridge) answers {@code [device, alias]} to
 * {@link #dmaAliases}; the platform programs the entry of every id of that
 * list itself (what Linux's {@code clone_aliases} does in the driver), and
 * this unit writes exactly the entry of the id it is given, no other: the
 * devices behind one alias are one IOMMU group, which the platform owns
 * whole. The hardware translates a device's DMA with the entry of its alias.
 * 65,536 domain ids, 0 reserved (Linux allocates from 1). Thread-safe: every
 * state change and translation holds the unit's lock.
 */
public final class AmdViUnit implements IommuUnit {

    public static final String VENDOR_NAME = "amd-vi";
    static final int DOMAIN_IDS = 0x10000;
    static final int PAGING_MODE = IoPageTables.LEVELS;
    static final int IOTLB_ENTRIES = 1024;
    static final int DTE_CACHE_ENTRIES = 256;
    static final long MAX_PAGES = 1L << 20;
    /** Where the driver keeps its structures in the unit's memory. */
    static final long COMMAND_BUFFER = 0x2000_0000L;
    static final long EVENT_LOG = 0x2001_0000L;
    static final long SEMAPHORE = 0x2002_0000L;
    static final long DEVICE_TABLE = 0x3000_0000L;
    static final long TABLE_REGION = 0x40_0000_0000L;
    static final long TABLE_REGION_PAGES = 1L << 22;
    private static final int EVENTS_KEPT = 256;
    private static final Set<DomainId> RESERVED = Set.of(DomainId.of(0));

    private final UnitDefinition definition;
    private final String source;
    private final UnitDirectory directory;
    private final Object lock = new Object();
    private final Memory memory = new Memory();
    private final AmdViHardware hardware;
    private final IoPageTables pageTables;
    private final CommandBuffer commands;
    private final int deviceTableEntries;
    private final AliasTable aliases;
    private final Map<String, Long> counts = new LinkedHashMap<>();
    /** Requester id (a device's own id or an alias) to the guest its entry points at. */
    private final Map<Integer, GuestId> attached = new HashMap<>();
    private final Deque<Event> events = new ArrayDeque<>();
    private volatile List<PciAddress> devicesCache;
    private volatile long devicesGeneration = -1;

    AmdViUnit(UnitDefinition definition, String source, UnitDirectory directory) {
        this.definition = Objects.requireNonNull(definition, "definition");
        this.source = Objects.requireNonNull(source, "source");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.aliases = definition.aliasTable();
        for (String g : List.of("device", "domain", "pages", "global")) {
            counts.put(g, 0L);
        }
        this.hardware = new AmdViHardware(memory, definition.efr(), DTE_CACHE_ENTRIES, IOTLB_ENTRIES);
        this.pageTables = new IoPageTables(memory,
                new IoPageTables.PageAllocator(memory, TABLE_REGION, TABLE_REGION_PAGES));
        this.commands = new CommandBuffer(hardware, memory, COMMAND_BUFFER, SEMAPHORE);
        // the device table holds every id up to the IVHD's last one, in whole pages (Linux's dev_table_size)
        int entries = 128;
        while (entries <= definition.lastDeviceId()) {
            entries <<= 1;
        }
        this.deviceTableEntries = Math.min(entries, 0x10000);
        bringUp();
    }

    /**
     * What Linux's {@code early_enable_iommu} does: every device table entry
     * valid and translating with mode 0 (DMA blocked) plus the IVHD's DTE
     * setting, the device table, command buffer and event log programmed, the
     * IOMMU enabled, then every cache invalidated and waited for.
     */
    private void bringUp() {
        for (int id = 0; id < deviceTableEntries; id++) {
            writeDte(id, DeviceTableEntry.blocked(definition.setting(id)));
        }
        hardware.writeRegister(Mmio.DEV_TABLE_BASE, DEVICE_TABLE | (deviceTableEntries * 32L / Memory.PAGE_SIZE - 1));
        hardware.writeRegister(Mmio.CMD_BUF_BASE, COMMAND_BUFFER | CommandBuffer.LENGTH_512);
        hardware.writeRegister(Mmio.CMD_HEAD, 0);
        hardware.writeRegister(Mmio.CMD_TAIL, 0);
        hardware.writeRegister(Mmio.EVT_LOG_BASE, EVENT_LOG | CommandBuffer.LENGTH_512);
        hardware.writeRegister(Mmio.EVT_HEAD, 0);
        hardware.writeRegister(Mmio.EVT_TAIL, 0);
        long control = Mmio.CONTROL_IOMMU_EN | Mmio.CONTROL_EVT_LOG_EN | Mmio.CONTROL_CMDBUF_EN;
        if ((definition.ivhd().flags() & 0x20) != 0) {
            control |= Mmio.CONTROL_COHERENT_EN;
        }
        hardware.writeRegister(Mmio.CONTROL, control);
        CompletableFuture<Void> flushed = new CompletableFuture<>();
        commands.submit(globalInvalidation(), flushed);
        List<Runnable> completions = new ArrayList<>();
        commands.poll(completions);
        completions.forEach(Runnable::run);
        if (!flushed.isDone()) {
            throw new IllegalStateException("unit " + id() + ": the invalidation at bring-up did not complete");
        }
        hardware.resetCounters();
    }

    private void writeDte(int id, DeviceTableEntry entry) {
        entry.write(memory, DEVICE_TABLE + (long) id * DeviceTableEntry.SIZE);
    }

    private DeviceTableEntry readDte(int id) {
        return DeviceTableEntry.read(memory, DEVICE_TABLE + (long) id * DeviceTableEntry.SIZE);
    }

    UnitDefinition definition() {
        return definition;
    }

    String source() {
        return source;
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

    /** An IVHD ALL entry. */
    @Override
    public boolean includePciAll() {
        return definition.includesAll();
    }

    @Override
    public int domainIdCount() {
        return DOMAIN_IDS;
    }

    /** Domain 0, as Linux keeps it back (its allocator starts at 1). */
    @Override
    public Set<DomainId> reservedDomainIds() {
        return RESERVED;
    }

    @Override
    public ScopeMatch scopeOf(PciAddress device) {
        return definition.scopeOf(Objects.requireNonNull(device, "device"));
    }

    /** Whether this unit has the strongest claim on the device among the bundle's units. */
    boolean translates(PciAddress device) {
        return scopeOf(device).claims() && directory.bestClaimant(device).map(u -> u == this).orElse(false);
    }

    /**
     * The device ids the IVHD names (every id of a range), or for an ALL unit
     * every id up to 0xffff, less those another unit claims more strongly.
     */
    @Override
    public List<PciAddress> devices() {
        long generation = directory.generation();
        List<PciAddress> cached = devicesCache;
        if (cached != null && devicesGeneration == generation) {
            return cached;
        }
        List<PciAddress> list = new ArrayList<>();
        if (definition.includesAll()) {
            for (int id = 0; id <= 0xFFFF; id++) {
                PciAddress d = PciAddress.ofRoutingId(segment(), id);
                if (translates(d)) {
                    list.add(d);
                }
            }
        } else {
            BitSet named = definition.named();
            for (int id = named.nextSetBit(0); id >= 0; id = named.nextSetBit(id + 1)) {
                PciAddress d = PciAddress.ofRoutingId(segment(), id);
                if (translates(d)) {
                    list.add(d);
                }
            }
        }
        cached = Collections.unmodifiableList(list);
        devicesCache = cached;
        devicesGeneration = generation;
        return cached;
    }

    /** The interrupt window and the device's IVMD unity ranges, in address order ({@code amd_iommu_get_resv_regions}). */
    @Override
    public List<iommu.api.spi.IovaRegion> reservedRegions(PciAddress device) {
        if (!scopeOf(device).claims()) {
            return List.of();
        }
        List<iommu.api.spi.IovaRegion> regions = definition.unityRegions(device);
        regions.add(iommu.api.spi.IovaRegion.INTERRUPT_WINDOW);
        regions.sort(java.util.Comparator.comparingLong(iommu.api.spi.IovaRegion::first));
        return List.copyOf(regions);
    }

    @Override
    public boolean hasReservedMemory(PciAddress device) {
        return definition.hasReservedMemory(Objects.requireNonNull(device, "device"));
    }

    /**
     * {@code [device]}, or {@code [device, alias]} when an IVHD alias entry
     * gives the device another requester id ({@link AliasTable}); empty when
     * the IVHD does not claim the device.
     */
    @Override
    public List<PciAddress> dmaAliases(PciAddress device) {
        Objects.requireNonNull(device, "device");
        return scopeOf(device).claims() ? aliases.dmaAliases(device) : List.of();
    }

    /**
     * Writes the entry of this requester id, and of no other: the platform
     * programs every id of {@link #dmaAliases} of the device itself.
     */
    @Override
    public void setContext(PciAddress device, DeviceContext context) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(context, "context");
        int did = context.domainId().value();
        if (RESERVED.contains(context.domainId())) {
            throw new IllegalArgumentException("domain id " + did + " is reserved on unit " + id()
                    + ": expected 1.." + (DOMAIN_IDS - 1));
        }
        requireRequesterId(device);
        GuestId guest = context.guest();
        int id = device.routingId();
        synchronized (lock) {
            GuestId previous = attached.put(id, guest);
            if (guest.isHost()) {
                writeDte(id, DeviceTableEntry.passThrough(did, definition.setting(id)));
            } else {
                long root = pageTables.rootOf(guest);
                pageTables.reference(guest);
                writeDte(id, DeviceTableEntry.translating(root, PAGING_MODE, did, definition.setting(id)));
            }
            if (previous != null && !previous.isHost()) {
                pageTables.unreference(previous);
            }
        }
    }

    /** Pass-through DTEs for the host domain, as Linux's identity domain on AMD ({@code set_dte_passthrough}). */
    @Override
    public iommu.api.spi.HostTranslation hostTranslation() {
        return iommu.api.spi.HostTranslation.PASS_THROUGH;
    }

    /** Blocks the entry of this requester id (valid, translating, mode 0), and of no other. */
    @Override
    public void clearContext(PciAddress device) {
        Objects.requireNonNull(device, "device");
        int id = device.routingId();
        synchronized (lock) {
            GuestId guest = device.segment() == segment() ? attached.remove(id) : null;
            if (guest != null) {
                writeDte(id, DeviceTableEntry.blocked(definition.setting(id)));
                if (!guest.isHost()) {
                    pageTables.unreference(guest);
                }
                return;
            }
        }
        requireRequesterId(device);
    }

    /** The entry of the requester id, when it points at a guest: its domain id and that guest. */
    @Override
    public Optional<DeviceContext> context(PciAddress device) {
        Objects.requireNonNull(device, "device");
        if (device.segment() != segment()) {
            return Optional.empty();
        }
        synchronized (lock) {
            int id = device.routingId();
            if (!attached.containsKey(id)) {
                return Optional.empty();
            }
            DeviceTableEntry e = readDte(id);
            if (e.passesThrough()) {
                return Optional.of(DeviceContext.host(DomainId.of(e.domainId())));
            }
            if (!e.translates()) {
                return Optional.empty();
            }
            GuestId guest = pageTables.guestAt(e.root()).orElseThrow(() -> new IllegalStateException(String.format(
                    "unit %s: the device table entry of %s points at 0x%x, which is no guest's I/O page table",
                    id(), device, e.root())));
            return Optional.of(new DeviceContext(DomainId.of(e.domainId()), guest));
        }
    }

    /** The device table entry the hardware reads for the device id, decoded (valid or not). */
    DeviceTableEntry deviceTableEntry(int deviceId) {
        synchronized (lock) {
            return readDte(deviceId);
        }
    }

    /**
     * AMD-Vi caches device table entries whatever their state, so every
     * change of one needs INVALIDATE_DEVTAB_ENTRY, also from blocked to
     * translating (what the API calls caching mode); INVALIDATE_IOMMU_PAGES
     * covers any naturally aligned power of two of pages (up to 2^40, beyond
     * it everything); commands go through the command buffer.
     */
    @Override
    public InvalidationCapabilities invalidationCapabilities() {
        return new InvalidationCapabilities(true, true, 40, true);
    }

    /**
     * The batch as commands, in order, then one COMPLETION_WAIT: a device
     * becomes INVALIDATE_DEVTAB_ENTRY of its id (and of its alias); a domain
     * INVALIDATE_IOMMU_PAGES with S set over the whole space; pages
     * INVALIDATE_IOMMU_PAGES with S encoding the naturally aligned size;
     * global INVALIDATE_IOMMU_ALL, or without EFR.IASup (as Linux) every device
     * table entry and every domain one by one. The stage completes when the
     * wait's store is written; a bad request fails the whole batch, nothing sent.
     */
    @Override
    public CompletionStage<Void> invalidate(List<Invalidation> batch) {
        Objects.requireNonNull(batch, "batch");
        List<Command> list = new ArrayList<>();
        for (Invalidation inv : batch) {
            if (inv == null) {
                return CompletableFuture.failedFuture(new InvalidationException(
                        "unit " + id() + ": null invalidation in batch: expected device, domain, pages or global"));
            }
            if (inv instanceof Invalidation.Device d && d.device().segment() != segment()) {
                return CompletableFuture.failedFuture(new InvalidationException(String.format(
                        "unit %s: device invalidation of %s, on segment %04x: expected a device of segment %04x",
                        id(), d.device(), d.device().segment(), segment())));
            }
            list.addAll(commandsFor(inv));
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<Runnable> completions = new ArrayList<>();
        synchronized (lock) {
            for (Invalidation inv : batch) {
                counts.merge(inv.granularity(), 1L, Long::sum);
            }
            commands.submit(list, done);
            commands.poll(completions);
        }
        completions.forEach(Runnable::run);
        return done;
    }

    /** The commands one request becomes on this unit. */
    List<Command> commandsFor(Invalidation inv) {
        if (inv instanceof Invalidation.Device d) {
            int id = d.device().routingId();
            int rid = aliases.requesterId(id);
            return rid == id ? List.of(new Command.InvalidateDevtabEntry(id))
                    : List.of(new Command.InvalidateDevtabEntry(id), new Command.InvalidateDevtabEntry(rid));
        } else if (inv instanceof Invalidation.Domain d) {
            return List.of(Command.InvalidateIommuPages.all(d.domainId().value()));
        } else if (inv instanceof Invalidation.Pages p) {
            return List.of(Command.InvalidateIommuPages.of(p.domainId().value(), p.iova(), p.order()));
        }
        return globalInvalidation();
    }

    private List<Command> globalInvalidation() {
        if (definition.efr().invalidateAllSupported()) {
            return List.of(new Command.InvalidateIommuAll());
        }
        List<Command> all = new ArrayList<>(deviceTableEntries + DOMAIN_IDS);
        for (int id = 0; id < deviceTableEntries; id++) {
            all.add(new Command.InvalidateDevtabEntry(id));
        }
        for (int did = 0; did < DOMAIN_IDS; did++) {
            all.add(Command.InvalidateIommuPages.all(did));
        }
        return all;
    }

    @Override
    public void map(GuestId guest, long iova, long hostAddress, long pages) {
        map(guest, iova, hostAddress, pages, true, true);
    }

    /** Maps with the given rights; at least one of them. */
    void map(GuestId guest, long iova, long hostAddress, long pages, boolean read, boolean write) {
        checkRange("map", guest, iova, pages);
        if ((hostAddress & 0xFFF) != 0 || hostAddress < 0
                || (hostAddress >>> 12) + pages > 1L << (Memory.ADDRESS_BITS - 12)) {
            throw new IllegalArgumentException(String.format("map on unit %s: host address 0x%x for %d pages"
                    + " invalid: expected a 4 KiB-aligned range below 2^%d", id(), hostAddress, pages,
                    Memory.ADDRESS_BITS));
        }
        if (!read && !write) {
            throw new IllegalArgumentException("map on unit " + id()
                    + ": neither read nor write granted: expected at least one (IR or IW)");
        }
        synchronized (lock) {
            OptionalLong mapped = pageTables.firstMapped(guest, iova >>> 12, pages);
            if (mapped.isPresent()) {
                long page = mapped.getAsLong();
                throw new IllegalArgumentException(String.format("map on unit %s: IOVA 0x%x of guest %s already"
                        + " mapped to 0x%x: expected it unmapped first", id(), page << 12, guest,
                        pageTables.lookup(guest, page).getAsLong() << 12));
            }
            pageTables.map(guest, iova >>> 12, hostAddress >>> 12, pages, read, write);
        }
    }

    /** The guest's I/O page table on this unit, walked. */
    @Override
    public Optional<List<iommu.api.spi.MappedRange>> mappings(GuestId guest) {
        Objects.requireNonNull(guest, "guest");
        synchronized (lock) {
            return Optional.of(pageTables.runs(guest).stream()
                    .map(r -> new iommu.api.spi.MappedRange(r[0] << 12, r[1] << 12, r[2])).toList());
        }
    }

    /** Unmaps what is mapped of the range; the IOTLB keeps what it cached until invalidated. */
    @Override
    public void unmap(GuestId guest, long iova, long pages) {
        checkRange("unmap", guest, iova, pages);
        synchronized (lock) {
            pageTables.unmap(guest, iova >>> 12, pages);
        }
    }

    private void checkRange(String op, GuestId guest, long iova, long pages) {
        Objects.requireNonNull(guest, "guest");
        if (guest.isHost()) {
            throw new IllegalArgumentException(op + " on unit " + id() + ": the host (guest 0) has no I/O page"
                    + " table, its devices are in pass-through: expected a guest 1.." + GuestId.MAX);
        }
        if (pages < 1 || pages > MAX_PAGES) {
            throw new IllegalArgumentException(op + " on unit " + id() + ": " + pages
                    + " pages out of range: expected 1.." + MAX_PAGES);
        }
        if ((iova & 0xFFF) != 0 || iova < 0 || (iova >>> 12) + pages > 1L << (IoPageTables.ADDRESS_BITS - 12)) {
            throw new IllegalArgumentException(String.format("%s on unit %s: IOVA 0x%x for %d pages invalid:"
                    + " expected a 4 KiB-aligned range below 2^%d (paging mode %d)", op, id(), iova, pages,
                    IoPageTables.ADDRESS_BITS, PAGING_MODE));
        }
    }

    @Override
    public Translation translate(PciAddress device, long iova) {
        return translate(device, iova, false);
    }

    /**
     * The DMA the device would do, with the requester id it arrives with (its
     * IVHD alias, if any), so through that id's entry, as the hardware does
     * (the device's own entry is not read when it has an alias): the host address, or a fault with its event code
     * (IO_PAGE_FAULT 2, ILLEGAL_DEV_TABLE_ENTRY 1), logged in the event log.
     */
    Translation translate(PciAddress device, long iova, boolean write) {
        Objects.requireNonNull(device, "device");
        if (iommu.api.spi.IovaRegion.INTERRUPT_WINDOW.overlaps(iova, 1)) {
            // the interrupt address range is never translated to memory (AMD IOMMU spec, interrupt remapping)
            return Translation.interruptRange(iova, write);
        }
        boolean attachedNow;
        synchronized (lock) {
            attachedNow = device.segment() == segment() && attached.containsKey(device.routingId());
        }
        if (!attachedNow) {
            requireRequesterId(device);
        }
        synchronized (lock) {
            // the hardware looks up the entry of the requester id the DMA arrives with: the last of dmaAliases
            AmdViHardware.Result r = hardware.translate(aliases.requesterId(device.routingId()), iova, write);
            drainEvents();
            if (!r.isFault()) {
                return Translation.hit(iova, r.hostAddress());
            }
            return Translation.fault(iova, r.fault().code(), id() + ": " + r.fault().describe(segment()));
        }
    }

    private void drainEvents() {
        for (Event e : hardware.drainEvents()) {
            events.addLast(e);
            if (events.size() > EVENTS_KEPT) {
                events.removeFirst();
            }
        }
    }

    /** The events the hardware logged, oldest first (the last 256), as the driver read them from the event log. */
    List<Event> events() {
        synchronized (lock) {
            drainEvents();
            return List.copyOf(events);
        }
    }

    /**
     * Invalidations asked for by granularity ({@code device}, {@code domain},
     * {@code pages}, {@code global}), then the commands the hardware performed
     * ({@code performed.devtab}, {@code performed.pages}, {@code performed.all},
     * {@code performed.wait}). The bring-up's are not counted.
     */
    @Override
    public Map<String, Long> invalidationCounts() {
        synchronized (lock) {
            Map<String, Long> all = new LinkedHashMap<>(counts);
            all.putAll(new java.util.TreeMap<>(hardware.performed()));
            return Collections.unmodifiableMap(all);
        }
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> f = IommuUnit.super.describe();
        f.put("source", source);
        f.putAll(IvhdDescription.header(definition));
        synchronized (lock) {
            long dtb = hardware.readRegister(Mmio.DEV_TABLE_BASE);
            f.put("DevTabBase", String.format("0x%x", dtb & Mmio.BASE_MASK));
            f.put("DevTabSize", (int) (dtb & 0x1FF) + 1 + " pages, " + deviceTableEntries + " entries");
            f.put("CmdBufBase", String.format("0x%x", hardware.readRegister(Mmio.CMD_BUF_BASE) & Mmio.BASE_MASK));
            f.put("CmdBufLen", 1 << (int) (hardware.readRegister(Mmio.CMD_BUF_BASE) >>> Mmio.LEN_SHIFT & 0xF));
            f.put("EventLogBase", String.format("0x%x", hardware.readRegister(Mmio.EVT_LOG_BASE) & Mmio.BASE_MASK));
            long control = hardware.readRegister(Mmio.CONTROL);
            f.put("Control", String.format("0x%x", control));
            f.put("Control.IommuEn", (control & Mmio.CONTROL_IOMMU_EN) != 0);
            f.put("Control.EventLogEn", (control & Mmio.CONTROL_EVT_LOG_EN) != 0);
            f.put("Control.CmdBufEn", (control & Mmio.CONTROL_CMDBUF_EN) != 0);
            f.put("Control.Coherent", (control & Mmio.CONTROL_COHERENT_EN) != 0);
            f.put("Status", String.format("0x%x", hardware.readRegister(Mmio.STATUS)));
            f.put("pagingMode", PAGING_MODE);
            f.put("invalidateAll", definition.efr().invalidateAllSupported() ? "INVALIDATE_IOMMU_ALL"
                    : "per entry and per domain (no IASup)");
            f.putAll(IvhdDescription.entries(definition));
            f.put("attachedDevices", attached.values().stream().filter(g -> !g.isHost()).count());
            f.put("iotlbEntries", hardware.iotlbSize());
            f.put("dteCacheEntries", hardware.dteCacheSize());
        }
        return f;
    }

    /**
     * The entry of the requester id decoded (V, TV, Mode, root, IR, IW,
     * DomainID, interrupt pass bits, raw 256 bits), with the alias its DMA
     * uses or the devices whose DMA uses it.
     */
    @Override
    public Map<String, Object> describeContext(PciAddress device) {
        Map<String, Object> f = new LinkedHashMap<>();
        if (!acceptsRequesterId(device)) {
            return f;
        }
        int id = device.routingId();
        int rid = aliases.requesterId(id);
        Optional<DeviceContext> context = context(device);
        f.put("present", context.isPresent());
        context.ifPresent(c -> {
            f.put("did", c.domainId().value());
            f.put("guest", c.guest().value());
        });
        f.put("deviceId", Bdf.of(segment(), id));
        if (rid != id) {
            f.put("requesterId", Bdf.of(segment(), rid) + " (IVHD alias: the DMA is translated with its entry)");
        }
        List<Integer> from = aliases.aliasedTo(id);
        if (!from.isEmpty()) {
            f.put("aliasOf", from.stream().map(d -> Bdf.of(segment(), d)).toList());
        }
        f.putAll(deviceTableEntry(id).describe());
        return f;
    }

    // ---- test hooks (this module's tests only)

    /** Test hook: the hardware stops processing commands; stages stay incomplete until {@link #releaseInvalidations()}. */
    void holdInvalidations() {
        synchronized (lock) {
            hardware.hold();
        }
    }

    /** Test hook: the hardware processes what was held; the finished batches' stages complete. */
    void releaseInvalidations() {
        List<Runnable> completions = new ArrayList<>();
        synchronized (lock) {
            hardware.release();
            commands.poll(completions);
        }
        completions.forEach(Runnable::run);
    }

    int pendingInvalidationBatches() {
        synchronized (lock) {
            return commands.pendingBatches();
        }
    }

    long readRegister(int offset) {
        synchronized (lock) {
            return hardware.readRegister(offset);
        }
    }

    Memory memory() {
        return memory;
    }

    /** Whether a device still has its entry pointing at a guest. */
    boolean hasAttachedDevices() {
        synchronized (lock) {
            return attached.values().stream().anyMatch(g -> !g.isHost());
        }
    }

    /** The requester ids guests hold (the host domain's entries are not attachments). */
    Map<PciAddress, GuestId> attachedDevices() {
        synchronized (lock) {
            Map<PciAddress, GuestId> m = new java.util.TreeMap<>();
            attached.forEach((id, g) -> {
                if (!g.isHost()) {
                    m.put(PciAddress.ofRoutingId(segment(), id), g);
                }
            });
            return m;
        }
    }

    /** Whether the id is a device this unit translates or the alias of one (an id of its dmaAliases). */
    private boolean acceptsRequesterId(PciAddress id) {
        return translates(id) || id.segment() == segment() && aliases.aliasedTo(id.routingId()).stream()
                .anyMatch(d -> translates(PciAddress.ofRoutingId(segment(), d)));
    }

    /** Refuses, as {@link #requireTranslated} does, an id that is neither a device translated here nor its alias. */
    private void requireRequesterId(PciAddress id) {
        if (!acceptsRequesterId(id)) {
            requireTranslated(id);
        }
    }

    private void requireTranslated(PciAddress device) {
        if (translates(device)) {
            return;
        }
        if (!scopeOf(device).claims()) {
            throw new IllegalArgumentException("unit " + id() + " does not translate " + device
                    + ": its IVHD names no such device, expected one of the devices it claims");
        }
        String owner = directory.bestClaimant(device).map(u -> "unit " + u.id() + " claims it (" + u.scopeOf(device)
                + ")").orElse("no unit claims it");
        throw new IllegalArgumentException("unit " + id() + " does not translate " + device + ": " + owner);
    }

    @Override
    public String toString() {
        return String.format("%s (amd-vi, segment %04x, base 0x%x, IVHD %02xh, %d device ids%s)", id(), segment(),
                registerBase(), definition.ivhd().type(), definition.namedCount(), includePciAll() ? ", ALL" : "");
    }
}
