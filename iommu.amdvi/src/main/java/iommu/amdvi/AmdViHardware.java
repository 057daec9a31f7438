package iommu.amdvi;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hardware side of one AMD-Vi IOMMU: its MMIO registers, the command
 * processor reading the command buffer in memory, a device table entry cache
 * and an IOTLB keyed by (domain id, page), both filled by translation and
 * dropped only by invalidation commands (or LRU eviction), the page-table
 * walker, and the event log it writes faults to. It knows the driver only
 * through registers and memory. Not thread-safe: the unit guards it.
 */
final class AmdViHardware {

    /** The outcome of one DMA: a host address, or a fault with the event it logged. */
    record Result(long hostAddress, Event fault) {
        boolean isFault() {
            return fault != null;
        }
    }

    private record IotlbKey(int domainId, long page) {
    }

    private record IotlbEntry(long hostPage, boolean read, boolean write) {
    }

    private final Memory memory;
    private final Efr efr;
    private final int iotlbCapacity;
    private final int dteCacheCapacity;
    private final Map<Integer, Long> registers = new LinkedHashMap<>();
    private final LinkedHashMap<Integer, DeviceTableEntry> dteCache;
    private final LinkedHashMap<IotlbKey, IotlbEntry> iotlb;
    private final Map<String, Long> performed = new LinkedHashMap<>();
    private boolean held;

    AmdViHardware(Memory memory, Efr efr, int dteCacheCapacity, int iotlbCapacity) {
        this.memory = memory;
        this.efr = efr;
        this.dteCacheCapacity = dteCacheCapacity;
        this.iotlbCapacity = iotlbCapacity;
        this.dteCache = new LinkedHashMap<>(16, 0.75f, true);
        this.iotlb = new LinkedHashMap<>(16, 0.75f, true);
        resetCounters();
    }

    void resetCounters() {
        for (String k : new String[] {"performed.devtab", "performed.pages", "performed.all", "performed.wait",
                "performed.illegal"}) {
            performed.put(k, 0L);
        }
    }

    Map<String, Long> performed() {
        return Map.copyOf(performed);
    }

    // ---- registers

    long readRegister(int offset) {
        if (offset == Mmio.EXT_FEATURES) {
            return efr.raw();
        }
        return registers.getOrDefault(offset, 0L);
    }

    void writeRegister(int offset, long value) {
        switch (offset) {
            case Mmio.EXT_FEATURES -> {
                // read-only
            }
            case Mmio.STATUS -> registers.put(offset, reg(offset) & ~(value
                    & (Mmio.STATUS_EVT_OVERFLOW | Mmio.STATUS_EVT_INT | Mmio.STATUS_COMWAIT_INT))); // RW1C
            case Mmio.CMD_HEAD, Mmio.CMD_TAIL, Mmio.EVT_HEAD, Mmio.EVT_TAIL -> {
                registers.put(offset, value & Mmio.POINTER_MASK);
                if (offset == Mmio.CMD_TAIL) {
                    processCommands();
                }
            }
            case Mmio.CONTROL -> {
                registers.put(offset, value);
                long status = reg(Mmio.STATUS);
                status = (value & Mmio.CONTROL_CMDBUF_EN) != 0 ? status | Mmio.STATUS_CMDBUF_RUN
                        : status & ~Mmio.STATUS_CMDBUF_RUN;
                status = (value & Mmio.CONTROL_EVT_LOG_EN) != 0 ? status | Mmio.STATUS_EVT_RUN
                        : status & ~Mmio.STATUS_EVT_RUN;
                registers.put(Mmio.STATUS, status);
                processCommands();
            }
            default -> registers.put(offset, value);
        }
    }

    private long reg(int offset) {
        return registers.getOrDefault(offset, 0L);
    }

    private static long ringBytes(long bar) {
        return (long) Command.SIZE << (int) (bar >>> Mmio.LEN_SHIFT & 0xF);
    }

    // ---- command processor

    /** Test hook: commands stay in the buffer until {@link #release()}. */
    void hold() {
        held = true;
    }

    void release() {
        held = false;
        processCommands();
    }

    /** Executes the commands between head and tail, when the command buffer is enabled and not held. */
    private void processCommands() {
        if (held || (reg(Mmio.CONTROL) & Mmio.CONTROL_CMDBUF_EN) == 0) {
            return;
        }
        long bar = reg(Mmio.CMD_BUF_BASE);
        long base = bar & Mmio.BASE_MASK;
        long size = ringBytes(bar);
        long head = reg(Mmio.CMD_HEAD);
        long tail = reg(Mmio.CMD_TAIL);
        while (head != tail) {
            Command command = Command.decode(memory.read64(base + head), memory.read64(base + head + 8));
            execute(command, base + head);
            head = (head + Command.SIZE) % size;
            registers.put(Mmio.CMD_HEAD, head);
        }
    }

    private void execute(Command command, long at) {
        if (command instanceof Command.CompletionWait w) {
            if (w.store()) {
                memory.write64(w.address(), w.data());
            }
            if (w.interrupt()) {
                registers.put(Mmio.STATUS, reg(Mmio.STATUS) | Mmio.STATUS_COMWAIT_INT);
            }
            count("performed.wait");
        } else if (command instanceof Command.InvalidateDevtabEntry d) {
            dteCache.remove(d.deviceId());
            count("performed.devtab");
        } else if (command instanceof Command.InvalidateIommuPages p) {
            for (Iterator<IotlbKey> it = iotlb.keySet().iterator(); it.hasNext();) {
                IotlbKey k = it.next();
                if (k.domainId() == p.domainId() && p.covers(k.page())) {
                    it.remove();
                }
            }
            count("performed.pages");
        } else if (command instanceof Command.InvalidateIommuAll && efr.invalidateAllSupported()) {
            dteCache.clear();
            iotlb.clear();
            count("performed.all");
        } else {
            log(new Event(Event.ILLEGAL_COMMAND_ERROR, 0, 0, 0, at));
            count("performed.illegal");
        }
    }

    private void count(String what) {
        performed.merge(what, 1L, Long::sum);
    }

    // ---- event log

    private void log(Event event) {
        if ((reg(Mmio.CONTROL) & Mmio.CONTROL_EVT_LOG_EN) == 0) {
            return;
        }
        long bar = reg(Mmio.EVT_LOG_BASE);
        long base = bar & Mmio.BASE_MASK;
        long size = ringBytes(bar);
        long tail = reg(Mmio.EVT_TAIL);
        long next = (tail + Event.SIZE) % size;
        if (next == reg(Mmio.EVT_HEAD)) {
            registers.put(Mmio.STATUS, reg(Mmio.STATUS) | Mmio.STATUS_EVT_OVERFLOW);
            return;
        }
        long[] q = event.encode();
        memory.write64(base + tail, q[0]);
        memory.write64(base + tail + 8, q[1]);
        registers.put(Mmio.EVT_TAIL, next);
        registers.put(Mmio.STATUS, reg(Mmio.STATUS) | Mmio.STATUS_EVT_INT);
    }

    // ---- translation

    int iotlbSize() {
        return iotlb.size();
    }

    int dteCacheSize() {
        return dteCache.size();
    }

    /**
     * The DMA of requester id {@code rid} to {@code iova}, as the IOMMU
     * carries it out: with the IOMMU disabled, untranslated; else its device
     * table entry (through the DTE cache): V or TV clear, untranslated; a
     * reserved bit or an unsupported mode, ILLEGAL_DEV_TABLE_ENTRY; mode 0,
     * untranslated when IR/IW allow the access, else IO_PAGE_FAULT; else the
     * IOTLB or a walk of the I/O page table, IO_PAGE_FAULT for a page not
     * present or not permitted. Faults are logged unless DTE.SA suppresses
     * page faults.
     */
    Result translate(int rid, long iova, boolean write) {
        if ((reg(Mmio.CONTROL) & Mmio.CONTROL_IOMMU_EN) == 0) {
            return new Result(iova, null);
        }
        int rw = write ? Event.FLAG_RW : 0;
        DeviceTableEntry dte = dteCache.get(rid);
        if (dte == null) {
            long bar = reg(Mmio.DEV_TABLE_BASE);
            long entries = ((bar & 0x1FF) + 1) * Memory.PAGE_SIZE / DeviceTableEntry.SIZE;
            if (rid >= entries) {
                return fault(new Event(Event.ILLEGAL_DEV_TABLE_ENTRY, rid, 0, rw | Event.FLAG_TR, iova), false);
            }
            dte = DeviceTableEntry.read(memory, (bar & Mmio.BASE_MASK) + (long) rid * DeviceTableEntry.SIZE);
            dteCache.put(rid, dte);
            if (dteCache.size() > dteCacheCapacity) {
                dteCache.remove(dteCache.keySet().iterator().next());
            }
        }
        if (!dte.valid() || !dte.translationValid()) {
            return new Result(iova, null);
        }
        int mode = dte.mode();
        if ((dte.q0() & DeviceTableEntry.Q0_RESERVED) != 0 || mode == 7
                || (mode > efr.maxHostLevels() && efr.maxHostLevels() > 0)) {
            return fault(new Event(Event.ILLEGAL_DEV_TABLE_ENTRY, rid, 0, rw | Event.FLAG_RZ | Event.FLAG_TR, iova),
                    false);
        }
        boolean suppress = dte.suppressAll();
        int did = dte.domainId();
        if (mode == 0) {
            if (write ? dte.iw() : dte.ir()) {
                return new Result(iova, null);
            }
            return fault(new Event(Event.IO_PAGE_FAULT, rid, did, rw | Event.FLAG_TR, iova), suppress);
        }
        long page = iova >>> Memory.PAGE_SHIFT;
        IotlbEntry hit = iotlb.get(new IotlbKey(did, page));
        if (hit == null) {
            hit = walk(dte, iova);
            if (hit == null) {
                return fault(new Event(Event.IO_PAGE_FAULT, rid, did, rw | Event.FLAG_TR, iova), suppress);
            }
            iotlb.put(new IotlbKey(did, page), hit);
            if (iotlb.size() > iotlbCapacity) {
                iotlb.remove(iotlb.keySet().iterator().next());
            }
        }
        if (write ? !hit.write() : !hit.read()) {
            return fault(new Event(Event.IO_PAGE_FAULT, rid, did, rw | Event.FLAG_PR | Event.FLAG_PE | Event.FLAG_TR,
                    iova), suppress);
        }
        return new Result(hit.hostPage() << Memory.PAGE_SHIFT | (iova & (Memory.PAGE_SIZE - 1)), null);
    }

    /** Walks the I/O page table from the DTE's root; null when a level is not present or malformed. */
    private IotlbEntry walk(DeviceTableEntry dte, long iova) {
        int level = dte.mode();
        int width = Math.min(64, 12 + 9 * level);
        if (width < 64 && iova >>> width != 0) {
            return null;
        }
        long table = dte.root();
        boolean read = dte.ir();
        boolean write = dte.iw();
        while (true) {
            int shift = 12 + 9 * (level - 1);
            long pte = memory.read64(table + ((iova >>> shift) & 0x1FF) * 8);
            if ((pte & IoPageTables.PR) == 0) {
                return null;
            }
            read &= (pte & IoPageTables.IR) != 0;
            write &= (pte & IoPageTables.IW) != 0;
            int next = (int) (pte >>> 9) & 7;
            long address = pte & IoPageTables.ADDRESS_MASK;
            if (next == 0) {
                long offset = iova & ((1L << shift) - 1);
                return new IotlbEntry((address + offset) >>> Memory.PAGE_SHIFT, read, write);
            }
            if (next >= level) {
                return null; // 7 (default page size) is not modelled; a next level not below this one is malformed
            }
            level = next;
            table = address;
        }
    }

    private Result fault(Event event, boolean suppressed) {
        if (!suppressed) {
            log(event);
        }
        return new Result(0, event);
    }

    /** Reads and consumes the events logged since the last call, as the driver's event-log interrupt handler does. */
    java.util.List<Event> drainEvents() {
        java.util.List<Event> events = new java.util.ArrayList<>();
        long bar = reg(Mmio.EVT_LOG_BASE);
        long base = bar & Mmio.BASE_MASK;
        long size = ringBytes(bar);
        long head = reg(Mmio.EVT_HEAD);
        long tail = reg(Mmio.EVT_TAIL);
        while (head != tail) {
            events.add(Event.decode(memory.read64(base + head), memory.read64(base + head + 8)));
            head = (head + Event.SIZE) % size;
        }
        registers.put(Mmio.EVT_HEAD, head);
        return events;
    }
}
