package iommu.vtd;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The hardware side of one remapping unit: its registers, its context cache
 * and IOTLB, its invalidation engines (register-based and queued) and its
 * translation of DMA requests through the root, context and second-level
 * tables in the unit's simulated memory. It knows nothing of guests or of
 * the platform's domain-id policy: the driver side reaches it only through
 * {@link #readRegister}, {@link #writeRegister} and the memory, as a real
 * driver does. Not thread-safe: the unit guards it.
 *
 * <p>Test hooks model a slow or failing unit: {@link #hold()} stops it from
 * processing invalidations (queued descriptors stay between IQH and IQT, a
 * CCMD or IOTLB command keeps ICC/IVT set) until {@link #release()};
 * {@link #injectInvalidationErrors(int)} makes the next invalidations fail as
 * the hardware reports it (queued: FSTS.IQE with IQH left on the descriptor;
 * registers: CAIG/IAIG 0, "request ignored").
 */
final class VtdHardware {

    /**
     * The outcome of one DMA request; {@code read} and {@code write} are the
     * rights a translation request was granted (the leaf's).
     */
    record Result(long hostAddress, FaultReason fault, boolean recorded, boolean read, boolean write) {
        Result(long hostAddress, FaultReason fault, boolean recorded) {
            this(hostAddress, fault, recorded, fault == null, fault == null);
        }

        static Result hit(long hostAddress) {
            return new Result(hostAddress, null, false);
        }

        boolean isFault() {
            return fault != null;
        }
    }

    /** Performed-invalidation counter names, in report order. */
    static final String CONTEXT_GLOBAL = "performed.context.global";
    static final String CONTEXT_DOMAIN = "performed.context.domain";
    static final String CONTEXT_DEVICE = "performed.context.device";
    static final String IOTLB_GLOBAL = "performed.iotlb.global";
    static final String IOTLB_DOMAIN = "performed.iotlb.domain";
    static final String IOTLB_PAGE = "performed.iotlb.page";
    static final String WAIT = "performed.wait";
    static final String DEVICE_TLB = "performed.device-tlb";

    /**
     * What a request of a device is (PCIe ATS): an untranslated DMA; a
     * translation request, which asks the unit for the translation to cache in
     * the device-TLB; a translated request, whose address the device-TLB
     * already translated.
     */
    enum Request {
        UNTRANSLATED, TRANSLATION, TRANSLATED
    }

    private final Capability cap;
    private final ExtendedCapability ecap;
    private final int version;
    private final PhysicalMemory memory;
    private final ContextCache contextCache;
    private final Iotlb iotlb;
    private final FaultRecorder faults;
    private final AtsEndpoints endpoints;
    private final RequestTranslation translation;
    private final int iro;
    private final int fro;

    private int gsts;
    private long rtaddr;
    /** The root-table address latched by the last GCMD.SRTP: what translations use. */
    private long rootTable;
    private long ccmd;
    private long iva;
    private long iotlbRegister;
    private long iqh;
    private long iqt;
    private long iqa;
    private int ics;
    private int fectl = 1 << 31; // IM set at reset
    private long iqercd;
    /** The source id whose device-TLB invalidation went unanswered since the last wait, or -1. */
    private int unanswered = -1;
    private final Map<Integer, Integer> plain32 = new LinkedHashMap<>();

    private boolean held;
    private int injectedErrors;
    private final Map<String, Long> performed = new LinkedHashMap<>();

    VtdHardware(Capability cap, ExtendedCapability ecap, int version, PhysicalMemory memory, int contextCacheEntries,
            int iotlbEntries, AtsEndpoints endpoints) {
        this.cap = cap;
        this.ecap = ecap;
        this.version = version;
        this.memory = memory;
        this.contextCache = new ContextCache(contextCacheEntries);
        this.iotlb = new Iotlb(iotlbEntries);
        this.faults = new FaultRecorder(cap.faultRecords());
        this.endpoints = endpoints;
        this.translation = new RequestTranslation(cap, ecap, memory, contextCache, iotlb, faults);
        this.iro = ecap.iotlbRegisterOffset();
        this.fro = cap.faultRecordingOffset();
        resetCounters();
    }

    // ---- registers ----------------------------------------------------------

    /** Whether the unit has register-based invalidation (VT-d before version 6). */
    boolean hasRegisterInvalidation() {
        return Registers.versionMajor(version) < 6;
    }

    /**
     * Reads a register: {@code size} 4 or 8 bytes, aligned. A 64-bit register
     * reads whole or by its low (offset) or high (offset + 4) doubleword; a
     * 32-bit register only as a doubleword. Reserved offsets read 0.
     */
    long readRegister(int offset, int size) {
        checkAccess(offset, size);
        if (is32(offset)) {
            if (size == 8) {
                throw new IllegalArgumentException(String.format(
                        "register 0x%x is 32 bits wide: expected a 4-byte access", offset));
            }
            return read32(offset) & 0xFFFF_FFFFL;
        }
        int base = offset & ~7;
        if (!is64(base)) {
            return 0;
        }
        long value = read64(base);
        return size == 8 ? value : (value >>> ((offset & 4) * 8)) & 0xFFFF_FFFFL;
    }

    /** Writes a register, with the same access rules as {@link #readRegister}; reserved offsets ignore writes. */
    void writeRegister(int offset, int size, long value) {
        checkAccess(offset, size);
        if (is32(offset)) {
            if (size == 8) {
                throw new IllegalArgumentException(String.format(
                        "register 0x%x is 32 bits wide: expected a 4-byte access", offset));
            }
            write32(offset, (int) value);
            return;
        }
        int base = offset & ~7;
        if (!is64(base)) {
            return;
        }
        if (size == 8) {
            write64(base, value, ~0L);
        } else {
            int shift = (offset & 4) * 8;
            write64(base, (value & 0xFFFF_FFFFL) << shift, 0xFFFF_FFFFL << shift);
        }
    }

    private static void checkAccess(int offset, int size) {
        if (size != 4 && size != 8) {
            throw new IllegalArgumentException("register access of " + size + " bytes: expected 4 or 8");
        }
        if (offset < 0 || (offset & (size - 1)) != 0) {
            throw new IllegalArgumentException(String.format(
                    "register offset 0x%x: expected a non-negative offset aligned to the %d-byte access", offset, size));
        }
    }

    private boolean is32(int offset) {
        return switch (offset) {
            case Registers.VER, Registers.GCMD, Registers.GSTS, Registers.FSTS, Registers.FECTL, Registers.FEDATA,
                    Registers.FEADDR, Registers.FEUADDR, Registers.ICS, Registers.IECTL, Registers.IEDATA,
                    Registers.IEADDR, Registers.IEUADDR -> true;
            default -> false;
        };
    }

    private boolean is64(int base) {
        switch (base) {
            case Registers.CAP, Registers.ECAP, Registers.RTADDR, Registers.IQH, Registers.IQT, Registers.IQA,
                    Registers.IQERCD:
                return true;
            case Registers.CCMD:
                return hasRegisterInvalidation();
            default:
                break;
        }
        if (hasRegisterInvalidation() && (base == iro || base == iro + Registers.IOTLB_AFTER_IVA)) {
            return true;
        }
        return faultRecord(base) >= 0;
    }

    /** The fault record a quadword offset belongs to, or -1. */
    private int faultRecord(int base) {
        if (base < fro || base >= fro + faults.count() * Registers.FAULT_RECORD_SIZE) {
            return -1;
        }
        return (base - fro) / Registers.FAULT_RECORD_SIZE;
    }

    private int read32(int offset) {
        return switch (offset) {
            case Registers.VER -> version;
            case Registers.GCMD -> 0; // write-only
            case Registers.GSTS -> gsts;
            case Registers.FSTS -> faults.readStatus();
            case Registers.FECTL -> fectl;
            case Registers.ICS -> ics;
            default -> plain32.getOrDefault(offset, 0);
        };
    }

    private void write32(int offset, int value) {
        switch (offset) {
            case Registers.VER, Registers.GSTS -> {
                // read-only
            }
            case Registers.GCMD -> command(value);
            case Registers.FSTS -> {
                boolean stopped = faults.isSet(Registers.FSTS_IQE) || faults.isSet(Registers.FSTS_ITE);
                faults.writeStatus(value);
                if (stopped && !faults.isSet(Registers.FSTS_IQE) && !faults.isSet(Registers.FSTS_ITE)) {
                    processQueue(); // the queue resumes once IQE and ITE are cleared
                }
            }
            case Registers.FECTL -> fectl = value & (1 << 31);
            case Registers.ICS -> ics &= ~(value & Registers.ICS_IWC);
            default -> plain32.put(offset, value);
        }
    }

    private long read64(int base) {
        switch (base) {
            case Registers.CAP:
                return cap.raw();
            case Registers.ECAP:
                return ecap.raw();
            case Registers.RTADDR:
                return rtaddr;
            case Registers.CCMD:
                return ccmd;
            case Registers.IQH:
                return iqh;
            case Registers.IQT:
                return iqt;
            case Registers.IQA:
                return iqa;
            case Registers.IQERCD:
                return iqercd;
            default:
                break;
        }
        if (base == iro) {
            return iva;
        }
        if (base == iro + Registers.IOTLB_AFTER_IVA) {
            return iotlbRegister;
        }
        int record = faultRecord(base);
        return faults.readRecord(record, (base - fro) % Registers.FAULT_RECORD_SIZE != 0);
    }

    private void write64(int base, long value, long mask) {
        switch (base) {
            case Registers.CAP, Registers.ECAP, Registers.IQH, Registers.IQERCD:
                return; // read-only
            case Registers.RTADDR:
                rtaddr = merge(rtaddr, value, mask) & ~0x3FFL; // bits 9:0 reserved
                return;
            case Registers.CCMD:
                ccmd = merge(ccmd, value, mask);
                if (mask < 0 && (ccmd & Registers.CCMD_ICC) != 0) {
                    if (!held) {
                        performContextCommand();
                    }
                }
                return;
            case Registers.IQT:
                iqt = merge(iqt, value, mask) & Registers.IQ_INDEX_MASK;
                processQueue();
                return;
            case Registers.IQA:
                iqa = merge(iqa, value, mask) & (~0xFFFL | Registers.IQA_DW | 7);
                return;
            default:
                break;
        }
        if (base == iro) {
            iva = merge(iva, value, mask) & ~0xF80L; // bits 11:7 reserved
            return;
        }
        if (base == iro + Registers.IOTLB_AFTER_IVA) {
            iotlbRegister = merge(iotlbRegister, value, mask);
            if (mask < 0 && (iotlbRegister & Registers.IOTLB_IVT) != 0 && !held) {
                performIotlbCommand();
            }
            return;
        }
        int record = faultRecord(base);
        if ((base - fro) % Registers.FAULT_RECORD_SIZE != 0) {
            faults.writeRecordHigh(record, value & mask);
        }
    }

    private static long merge(long old, long value, long mask) {
        return (old & ~mask) | (value & mask);
    }

    /** A GCMD write: persistent bits (TE, QIE, ...) become GSTS; one-shot bits (SRTP, WBF, ...) act once. */
    private void command(int value) {
        int supported = Registers.GCMD_TE;
        if (Capability.bit(cap.raw(), 3)) {
            supported |= Registers.GCMD_EAFL;
        }
        if (ecap.queuedInvalidation()) {
            supported |= Registers.GCMD_QIE;
        }
        if (ecap.interruptRemapping()) {
            supported |= Registers.GCMD_IRE | Registers.GCMD_CFI;
        }
        int persistent = value & Registers.GCMD_PERSISTENT & supported;
        boolean qiWas = (gsts & Registers.GSTS_QIES) != 0;
        boolean qiNow = (persistent & Registers.GCMD_QIE) != 0;
        gsts = (gsts & ~Registers.GCMD_PERSISTENT) | persistent;
        if (qiWas != qiNow) {
            iqh = 0; // enabling starts fetching at 0; disabling resets the head
        }
        if ((value & Registers.GCMD_SRTP) != 0) {
            rootTable = rtaddr; // latched; the caches keep what they hold until software invalidates them
            gsts |= Registers.GSTS_RTPS;
        }
        if ((value & Registers.GCMD_SFL) != 0) {
            gsts |= Registers.GSTS_FLS;
        }
        // WBF (when CAP.RWBF): the write buffer drains at once, WBFS reads back clear
        if ((value & Registers.GCMD_SIRTP) != 0 && ecap.interruptRemapping()) {
            gsts |= Registers.GSTS_IRTPS;
        }
        if (qiNow && !qiWas) {
            processQueue();
        }
    }

    // ---- register-based invalidation ------------------------------------------

    private void performContextCommand() {
        int actual;
        if ((gsts & Registers.GSTS_QIES) != 0 || takeInjectedError()) {
            actual = 0; // not allowed while queued invalidation is enabled, or an injected error: ignored
        } else {
            actual = invalidateContext(Registers.ccmdCirg(ccmd), Registers.ccmdDid(ccmd), Registers.ccmdSid(ccmd),
                    Registers.ccmdFm(ccmd));
        }
        ccmd = Registers.withCcmdCaig(ccmd & ~Registers.CCMD_ICC, actual);
    }

    private void performIotlbCommand() {
        int actual;
        if ((gsts & Registers.GSTS_QIES) != 0 || takeInjectedError()) {
            actual = 0;
        } else {
            actual = invalidateIotlb(Registers.iotlbIirg(iotlbRegister), Registers.iotlbDid(iotlbRegister),
                    Registers.ivaAddress(iva), Registers.ivaAm(iva));
        }
        iotlbRegister = Registers.withIotlbIaig(iotlbRegister & ~Registers.IOTLB_IVT, actual);
    }

    /** Carries out a context-cache invalidation; returns the granularity performed, 0 if refused. */
    private int invalidateContext(int granularity, int did, int sid, int fm) {
        switch (granularity) {
            case Registers.GRANULARITY_GLOBAL -> {
                contextCache.invalidateAll();
                count(CONTEXT_GLOBAL);
            }
            case Registers.GRANULARITY_DOMAIN -> {
                contextCache.invalidateDomain(did);
                count(CONTEXT_DOMAIN);
            }
            case Registers.GRANULARITY_DEVICE_OR_PAGE -> {
                contextCache.invalidateDevice(sid, fm, did);
                count(CONTEXT_DEVICE);
            }
            default -> {
                return 0;
            }
        }
        return granularity;
    }

    /**
     * Carries out an IOTLB invalidation; returns the granularity performed:
     * page-selective without CAP.PSI becomes domain-selective (hardware may
     * invalidate more than asked), an address mask beyond CAP.MAMV is refused.
     */
    private int invalidateIotlb(int granularity, int did, long address, int am) {
        switch (granularity) {
            case Registers.GRANULARITY_GLOBAL -> {
                iotlb.invalidateAll();
                count(IOTLB_GLOBAL);
                return granularity;
            }
            case Registers.GRANULARITY_DOMAIN -> {
                iotlb.invalidateDomain(did);
                count(IOTLB_DOMAIN);
                return granularity;
            }
            case Registers.GRANULARITY_DEVICE_OR_PAGE -> {
                if (!cap.pageSelective()) {
                    iotlb.invalidateDomain(did);
                    count(IOTLB_DOMAIN);
                    return Registers.GRANULARITY_DOMAIN;
                }
                if (am > cap.maxAddressMaskValue()) {
                    return 0;
                }
                iotlb.invalidatePages(did, address >>> PhysicalMemory.PAGE_SHIFT, am);
                count(IOTLB_PAGE);
                return granularity;
            }
            default -> {
                return 0;
            }
        }
    }

    // ---- queued invalidation --------------------------------------------------

    /** Fetches and carries out descriptors from IQH up to IQT, unless held, disabled or stopped on IQE or ITE. */
    private void processQueue() {
        if (held || (gsts & Registers.GSTS_QIES) == 0 || faults.isSet(Registers.FSTS_IQE)
                || faults.isSet(Registers.FSTS_ITE)) {
            return;
        }
        int entries = Registers.queueEntries(Registers.iqaQs(iqa));
        if ((iqa & Registers.IQA_DW) != 0 || (iqt >>> 4) >= entries) {
            faults.raise(Registers.FSTS_IQE); // 256-bit descriptors (not modelled) or a tail beyond the queue
            return;
        }
        long base = Registers.iqaBase(iqa);
        while (iqh != iqt && !faults.isSet(Registers.FSTS_ITE)) {
            int index = (int) (iqh >>> 4);
            long address = base + (long) index * QueuedDescriptor.SIZE;
            if (!memory.exists(address)) {
                faults.raise(Registers.FSTS_IQE);
                return;
            }
            QueuedDescriptor descriptor = QueuedDescriptor.decode(memory.read64(address), memory.read64(address + 8));
            if (!execute(descriptor)) {
                faults.raise(Registers.FSTS_IQE); // IQH stays on the descriptor that failed
                return;
            }
            iqh = (long) ((index + 1) % entries) << 4;
        }
        if (unanswered >= 0 && iqh == iqt) {
            timeOut(); // no wait came after it: the time-out is seen all the same
        }
    }

    /**
     * A device-TLB invalidation was not answered within the time-out (VT-d
     * 6.5.2.10): FSTS.ITE, its source id in IQERCD.ITESID, and no descriptor
     * fetched until software clears ITE.
     */
    private void timeOut() {
        iqercd = Registers.iqercd(unanswered);
        unanswered = -1;
        faults.raise(Registers.FSTS_ITE);
    }

    private boolean execute(QueuedDescriptor descriptor) {
        if (descriptor.reservedBitsSet()) {
            return false;
        }
        if (descriptor instanceof QueuedDescriptor.ContextCacheInvalidate c) {
            return !takeInjectedError()
                    && invalidateContext(c.granularity(), c.domainId(), c.sourceId(), c.functionMask()) != 0;
        } else if (descriptor instanceof QueuedDescriptor.IotlbInvalidate t) {
            return !takeInjectedError()
                    && invalidateIotlb(t.granularity(), t.domainId(), t.address(), t.addressMask()) != 0;
        } else if (descriptor instanceof QueuedDescriptor.DeviceTlbInvalidate d) {
            if (!ecap.deviceTlb()) {
                return false; // no device-TLB support: an invalid descriptor type
            }
            if (endpoints.invalidate(d.sourceId(), d.firstPage(), d.order())) {
                count(DEVICE_TLB);
            } else {
                unanswered = d.sourceId(); // the wait that follows waits for an answer that does not come
            }
            return true;
        } else if (descriptor instanceof QueuedDescriptor.InvalidationWait w) {
            if (unanswered >= 0) {
                timeOut(); // the pending wait is aborted: no status write, no interrupt
                return true;
            }
            if (w.statusWrite()) {
                if (!memory.exists(w.statusAddress())) {
                    return false;
                }
                memory.write32(w.statusAddress(), w.statusData());
            }
            if (w.interruptFlag()) {
                ics |= Registers.ICS_IWC;
            }
            if (w.statusWrite() || w.interruptFlag()) {
                count(WAIT); // a bare fence (what refused descriptors are overwritten with) signals nothing
            }
            return true;
        } else if (descriptor instanceof QueuedDescriptor.Other o) {
            // no interrupt entry cache is modelled: accepted when the unit has one, as a no-op
            return o.type() == QueuedDescriptor.TYPE_INTERRUPT_ENTRY_CACHE && ecap.interruptRemapping();
        }
        return false;
    }

    // ---- hooks: a slow or failing unit ---------------------------------------

    /** From now on, invalidations wait: nothing is processed until {@link #release()}. */
    void hold() {
        held = true;
    }

    boolean held() {
        return held;
    }

    /** Processes everything held back (a pending CCMD or IOTLB command, the queue) and stops holding. */
    void release() {
        held = false;
        if ((ccmd & Registers.CCMD_ICC) != 0) {
            performContextCommand();
        }
        if ((iotlbRegister & Registers.IOTLB_IVT) != 0) {
            performIotlbCommand();
        }
        processQueue();
    }

    /** The next {@code n} invalidation requests (descriptors or commands) fail as the hardware reports it. */
    void injectInvalidationErrors(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("error count " + n + ": expected 0 or more");
        }
        injectedErrors = n;
    }

    int injectedErrorsLeft() {
        return injectedErrors;
    }

    private boolean takeInjectedError() {
        if (injectedErrors > 0) {
            injectedErrors--;
            return true;
        }
        return false;
    }

    // ---- translation ---------------------------------------------------------

    /** An untranslated DMA request of the source id. */
    Result translate(int sourceId, long iova, boolean write) {
        return translate(sourceId, iova, write, Request.UNTRANSLATED);
    }

    /** A DMA request of the source id, translated through the tables latched and the caches ({@link RequestTranslation}). */
    Result translate(int sourceId, long iova, boolean write, Request request) {
        return translation.translate((gsts & Registers.GSTS_TES) != 0, rootTable, sourceId, iova, write, request);
    }

    // ---- observation ---------------------------------------------------------

    Map<String, Long> performed() {
        return Collections.unmodifiableMap(performed);
    }

    void resetCounters() {
        for (String name : new String[] {CONTEXT_GLOBAL, CONTEXT_DOMAIN, CONTEXT_DEVICE, IOTLB_GLOBAL, IOTLB_DOMAIN,
                IOTLB_PAGE, DEVICE_TLB, WAIT}) {
            performed.put(name, 0L);
        }
    }

    private void count(String name) {
        performed.merge(name, 1L, Long::sum);
    }

    int contextCacheSize() {
        return contextCache.size();
    }

    int iotlbSize() {
        return iotlb.size();
    }

    FaultRecorder faults() {
        return faults;
    }
}
