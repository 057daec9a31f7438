package iommu.vtd;

/**
 * How a unit's hardware translates one DMA request of a source id: through
 * the root table it latched, the context entry (the context cache first),
 * then the IOTLB or a walk of the second-level tables; faults recorded in the
 * fault recording registers. With ATS a device sends translation requests
 * and translated ones too ({@link VtdHardware.Request}). Not thread-safe:
 * the unit guards it.
 */
final class RequestTranslation {

    private final Capability cap;
    private final ExtendedCapability ecap;
    private final PhysicalMemory memory;
    private final ContextCache contextCache;
    private final Iotlb iotlb;
    private final FaultRecorder faults;

    RequestTranslation(Capability cap, ExtendedCapability ecap, PhysicalMemory memory, ContextCache contextCache,
            Iotlb iotlb, FaultRecorder faults) {
        this.cap = cap;
        this.ecap = ecap;
        this.memory = memory;
        this.contextCache = contextCache;
        this.iotlb = iotlb;
        this.faults = faults;
    }

    /**
     * A DMA request of the source id to {@code iova}: root entry, context
     * entry (through the context cache), then the IOTLB or a walk of the
     * second-level tables. A fault is recorded in the fault recording
     * registers unless the context entry disables fault processing. A
     * translation request or a translated one needs TT=1 (device-TLB) in the
     * context entry; a translated one then passes as it is.
     */
    VtdHardware.Result translate(boolean enabled, long rootTable, int sourceId, long iova, boolean write,
            VtdHardware.Request request) {
        if (!enabled) {
            return VtdHardware.Result.hit(iova); // translation disabled: requests pass untranslated
        }
        ContextEntry context = contextCache.lookup(sourceId);
        if (context == null) {
            Object fetched = fetchContext(rootTable, sourceId);
            if (fetched instanceof FaultReason reason) {
                return fault(reason, sourceId, iova, write, false);
            }
            context = (ContextEntry) fetched;
            if (!context.present()) {
                if (cap.cachingMode()) {
                    contextCache.fill(sourceId, context);
                }
                return fault(FaultReason.CONTEXT_NOT_PRESENT, sourceId, iova, write, false);
            }
            FaultReason invalid = checkContext(context);
            if (invalid != null) {
                return fault(invalid, sourceId, iova, write, context.faultProcessingDisable());
            }
            contextCache.fill(sourceId, context);
        } else if (!context.present()) {
            return fault(FaultReason.CONTEXT_NOT_PRESENT, sourceId, iova, write, false);
        }
        boolean fpd = context.faultProcessingDisable();
        if (request != VtdHardware.Request.UNTRANSLATED) {
            if (context.translationType() != ContextEntry.TT_DEVICE_TLB) {
                return fault(FaultReason.TRANSLATION_BLOCKED, sourceId, iova, write, fpd);
            }
            if (request == VtdHardware.Request.TRANSLATED) {
                return VtdHardware.Result.hit(iova);
            }
        }
        if (context.translationType() == ContextEntry.TT_PASS_THROUGH) {
            return VtdHardware.Result.hit(iova);
        }
        int width = Math.min(cap.mgaw(), ContextEntry.widthOf(context.addressWidth()));
        if (width < 64 && (iova >>> width) != 0) {
            return fault(FaultReason.BEYOND_MGAW, sourceId, iova, write, fpd);
        }
        long page = iova >>> PhysicalMemory.PAGE_SHIFT;
        Iotlb.Entry entry = iotlb.lookup(context.domainId(), page);
        if (entry == null) {
            Object walked = walk(context, iova);
            if (walked instanceof FaultReason reason) {
                return fault(reason, sourceId, iova, write, fpd);
            }
            entry = (Iotlb.Entry) walked;
            if (entry.present() || cap.cachingMode()) {
                iotlb.fill(context.domainId(), page, entry);
            }
        }
        if (write ? !entry.write() : !entry.read()) {
            return fault(write ? FaultReason.PTE_WRITE_NOT_SET : FaultReason.PTE_READ_NOT_SET, sourceId, iova, write,
                    fpd);
        }
        return new VtdHardware.Result(entry.hostPage() << PhysicalMemory.PAGE_SHIFT | (iova & (PhysicalMemory.PAGE_SIZE - 1)),
                null, false, entry.read(), entry.write());
    }

    /** The context entry of the source id from memory (present or not), or the fault the fetch met. */
    private Object fetchContext(long rootTable, int sourceId) {
        if (Registers.rtaddrTtm(rootTable) != 0) {
            return FaultReason.ROOT_TABLE_INVALID; // scalable mode is not modelled
        }
        long rootAddress = (rootTable & Registers.RTADDR_RTA) + (long) (sourceId >>> 8) * RootEntry.SIZE;
        if (!memory.exists(rootAddress)) {
            return FaultReason.ROOT_TABLE_INVALID;
        }
        long rootLow = memory.read64(rootAddress);
        long rootHigh = memory.read64(rootAddress + 8);
        if ((rootLow & 1) == 0) {
            return FaultReason.ROOT_NOT_PRESENT;
        }
        if (RootEntry.reservedBitsSet(rootLow, rootHigh)) {
            return FaultReason.ROOT_RESERVED;
        }
        long contextAddress = RootEntry.decode(rootLow, rootHigh).contextTablePointer()
                + (long) (sourceId & 0xFF) * ContextEntry.SIZE;
        if (!memory.exists(contextAddress)) {
            return FaultReason.CONTEXT_TABLE_INVALID;
        }
        long low = memory.read64(contextAddress);
        long high = memory.read64(contextAddress + 8);
        if ((low & 1) == 0) {
            return new ContextEntry(false, false, 0, 0, 0, 0); // cached, under caching mode, with DID 0
        }
        if (ContextEntry.reservedBitsSet(low, high)) {
            return FaultReason.CONTEXT_RESERVED;
        }
        ContextEntry entry = ContextEntry.decode(low, high);
        if (entry.domainId() >= cap.domainIdCount()) {
            return FaultReason.CONTEXT_RESERVED; // DID bits beyond ND are reserved
        }
        return entry;
    }

    private FaultReason checkContext(ContextEntry context) {
        switch (context.translationType()) {
            case ContextEntry.TT_UNTRANSLATED:
                break;
            case ContextEntry.TT_DEVICE_TLB:
                if (!ecap.deviceTlb()) {
                    return FaultReason.INVALID_CONTEXT;
                }
                break;
            case ContextEntry.TT_PASS_THROUGH:
                return ecap.passThrough() ? null : FaultReason.INVALID_CONTEXT;
            default:
                return FaultReason.INVALID_CONTEXT;
        }
        if (context.addressWidth() > 3 || !Capability.bit(cap.sagaw(), context.addressWidth())) {
            return FaultReason.INVALID_CONTEXT;
        }
        return null;
    }

    /** Walks the second-level tables: the leaf's host page and rights (ANDed down the levels), or a fault. */
    private Object walk(ContextEntry context, long iova) {
        long table = context.secondLevelPointer();
        boolean read = true;
        boolean write = true;
        long reserved = PageTableEntry.reservedAddressBits(memory.addressBits());
        for (int level = ContextEntry.levelsOf(context.addressWidth()); level >= 1; level--) {
            long address = table + (long) PageTableEntry.index(iova, level) * PageTableEntry.SIZE;
            if (!memory.exists(address)) {
                return FaultReason.NEXT_TABLE_INVALID;
            }
            long pte = memory.read64(address);
            if (!PageTableEntry.present(pte)) {
                return Iotlb.Entry.NOT_PRESENT;
            }
            if ((pte & reserved) != 0) {
                return FaultReason.PTE_RESERVED;
            }
            read &= (pte & PageTableEntry.READ) != 0;
            write &= (pte & PageTableEntry.WRITE) != 0;
            if (level == 1) {
                return new Iotlb.Entry(PageTableEntry.address(pte) >>> PhysicalMemory.PAGE_SHIFT, read, write);
            }
            if ((pte & PageTableEntry.SUPER_PAGE) != 0) {
                // 2 MiB at level 2, 1 GiB at level 3, when CAP.SLLPS (bits 37:34) says so; reserved otherwise
                if (level > 3 || !Capability.bit(cap.raw(), 34 + level - 2)) {
                    return FaultReason.PTE_RESERVED;
                }
                long size = 1L << (PhysicalMemory.PAGE_SHIFT + 9 * (level - 1));
                if ((PageTableEntry.address(pte) & (size - 1)) != 0) {
                    return FaultReason.PTE_RESERVED;
                }
                long host = PageTableEntry.address(pte) + (iova & (size - 1));
                return new Iotlb.Entry(host >>> PhysicalMemory.PAGE_SHIFT, read, write);
            }
            table = PageTableEntry.address(pte);
        }
        throw new AssertionError("unreachable");
    }

    private VtdHardware.Result fault(FaultReason reason, int sourceId, long iova, boolean write, boolean disabled) {
        boolean recorded = !disabled && faults.record(reason, sourceId, iova, !write);
        return new VtdHardware.Result(0, reason, recorded);
    }
}
