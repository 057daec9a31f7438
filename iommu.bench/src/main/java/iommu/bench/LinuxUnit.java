package iommu.bench;

import java.util.TreeMap;

/**
 * Linux's algorithm: one VT-d unit's domain ids as today's Linux driver keeps
 * them, re-implemented here only to be measured against. Not used by the
 * platform. Followed: drivers/iommu/intel/iommu.c of torvalds/linux at
 * 00939bebe51c ({@code domain_attach_iommu}, {@code domain_detach_iommu},
 * {@code copy_context_table}), iommu.h ({@code IDA_START_DID},
 * {@code FLPT_DEFAULT_DID}, {@code struct iommu_domain_info},
 * {@code domain_id_iommu}) and lib/idr.c's XArray IDA
 * ({@code ida_alloc_range}, {@code ida_free}; converted to the XArray by
 * f32f004cddf8 in 2018).
 *
 * <ul>
 * <li>{@code iommu->domain_ida}: an IDA. {@code domain_attach_iommu} takes
 *     {@code ida_alloc_range(&iommu->domain_ida, IDA_START_DID,
 *     cap_ndoms(iommu->cap) - 1)}, the lowest free id in that range, and
 *     {@code domain_detach_iommu} gives it back with {@code ida_free}. DIDs 0
 *     and 1 are below the range (0: caching mode and "not allocated";
 *     1: {@code FLPT_DEFAULT_DID}, first-level, pass-through and identity
 *     domains), so the IDA never holds them. See {@link Ida}.</li>
 * <li>{@code domain->iommu_array}: per domain, an xarray indexed by
 *     {@code iommu->seq_id} of {@code struct iommu_domain_info} (iommu, refcnt,
 *     did). Guest to DID is {@code domain_id_iommu(domain, iommu)}:
 *     {@code xa_load(&domain->iommu_array, iommu->seq_id)->did}, from the
 *     domain the caller holds. See {@link IommuArray}.</li>
 * <li>DID to domain: Linux has no table for it (nothing like Xen's
 *     {@code domid_map}). Its fault and page-request paths find the domain
 *     from the requester id instead: {@code device_rbtree_find(iommu, rid)}
 *     then {@code info->domain}. To answer "which domain holds DID d on this
 *     unit" it would have to walk the unit's devices
 *     ({@code iommu->device_rbtree}) comparing each one's domain's
 *     {@code domain_id_iommu}: {@link #domainOfDid}, O(devices on the unit),
 *     which the benchmark measures as Linux's DID to guest because that is
 *     all Linux has; it is not a path Linux runs.</li>
 * </ul>
 *
 * <p>Locks: the IDA's and each xarray's own {@code xa_lock} are taken (as
 * {@code synchronized} on the structure, uncontended), as the platform side
 * pays its own maps' CAS and bin locks. {@code iommu->did_lock}, the mutex
 * {@code domain_attach_iommu}/{@code domain_detach_iommu} hold, is not taken:
 * it serializes writers as the platform's assignment-manager lock does, and
 * the benchmark does not take that either. RCU ({@code xa_load} under
 * {@code rcu_read_lock}) costs nothing here; {@code kzalloc}/{@code kfree} of
 * the {@code iommu_domain_info} are a Java allocation and the garbage
 * collector.
 */
final class LinuxUnit {

    /** iommu.h: DID 1, first-level / pass-through / identity domains; never from the IDA. */
    static final int FLPT_DEFAULT_DID = 1;
    /** iommu.h: the IDA hands out DIDs from 2 (0 and 1 are reserved). */
    static final int IDA_START_DID = 2;
    /** -ENOSPC, as {@code domain_attach_iommu} and {@code ida_alloc_range} return it. */
    static final int ENOSPC = -28;

    /** {@code struct iommu_domain_info}: a domain's DID on one unit and how many of its devices sit there. */
    static final class DomainInfo {
        final LinuxUnit iommu;
        int refcnt;
        char did; // u16

        DomainInfo(LinuxUnit iommu) {
            this.iommu = iommu;
        }
    }

    /** {@code struct dmar_domain}, the fields that matter here. */
    static final class Domain {
        /** Not Linux's: the benchmark's name for the guest that owns this domain (VFIO/iommufd hold the pointer). */
        final int guest;
        final IommuArray iommuArray = new IommuArray(); // xa_init(&domain->iommu_array)

        Domain(int guest) {
            this.guest = guest;
        }
    }

    /** {@code struct device_domain_info}: a device behind the unit, keyed by its requester id, and its domain. */
    static final class DeviceInfo {
        final int rid;
        Domain domain;

        DeviceInfo(int rid) {
            this.rid = rid;
        }
    }

    private final int seqId;
    private final int ndoms;
    private final Ida domainIda = new Ida();
    /** {@code iommu->device_rbtree} (device_rbtree_insert at probe, keyed by RID): a red-black tree, as TreeMap is. */
    private final TreeMap<Integer, DeviceInfo> deviceRbtree = new TreeMap<>();

    /**
     * @param seqId {@code iommu->seq_id} (from {@code dmar_seq_ids}, 0..DMAR_UNITS_SUPPORTED-1)
     * @param ndoms {@code cap_ndoms(iommu->cap)}: 2^(4 + 2 * ND), 16 to 65,536 DIDs
     */
    LinuxUnit(int seqId, int ndoms) {
        if (seqId < 0 || seqId >= IommuArray.XA_CHUNK_SIZE) {
            throw new IllegalArgumentException("seq_id " + seqId + ": modelled 0.." + (IommuArray.XA_CHUNK_SIZE - 1));
        }
        if (ndoms < 16 || ndoms > Ida.MAX_IDS) {
            throw new IllegalArgumentException("cap_ndoms " + ndoms + ": expected 16..65536");
        }
        this.seqId = seqId;
        this.ndoms = ndoms;
    }

    int seqId() {
        return seqId;
    }

    int ndoms() {
        return ndoms;
    }

    /**
     * {@code domain_attach_iommu(domain, iommu)}: if the domain is on this unit
     * already, one more reference; else the lowest free DID from the IDA,
     * recorded in the domain's xarray at this unit's seq_id. 0, or
     * {@link #ENOSPC} when the unit has no free DID ("No free domain ids").
     */
    int domainAttachIommu(Domain domain) {
        DomainInfo info = new DomainInfo(this); // kzalloc, before the lock as Linux does
        // guard(mutex)(&iommu->did_lock): not taken, see the class comment
        DomainInfo curr = domain.iommuArray.load(seqId);
        if (curr != null) {
            curr.refcnt++;
            return 0; // kfree(info)
        }
        int num = domainIda.allocRange(IDA_START_DID, ndoms - 1);
        if (num < 0) {
            return num; // pr_err("No free domain ids"), kfree(info), -ENOSPC
        }
        info.refcnt = 1;
        info.did = (char) num;
        curr = domain.iommuArray.cmpxchg(seqId, null, info);
        if (curr != null) { // -EBUSY: cannot happen under did_lock
            domainIda.free(info.did);
            throw new IllegalStateException("iommu_array slot " + seqId + " taken under did_lock");
        }
        return 0;
    }

    /**
     * {@code domain_detach_iommu(domain, iommu)}: one reference less; with the
     * last, the DID goes back to the IDA first, then the xarray entry is
     * erased. (Linux dereferences NULL if the domain is not on the unit; this
     * throws.)
     */
    void domainDetachIommu(Domain domain) {
        DomainInfo info = domain.iommuArray.load(seqId);
        if (info == null) {
            throw new IllegalStateException("domain of guest " + domain.guest + " is not attached to unit " + seqId);
        }
        if (--info.refcnt == 0) {
            domainIda.free(info.did);
            domain.iommuArray.erase(seqId);
            // domain->nid = NUMA_NO_NODE; kfree(info)
        }
    }

    /**
     * {@code domain_id_iommu(domain, iommu)}: {@code xa_load(&domain->iommu_array,
     * iommu->seq_id)->did}. -1 when the domain is not on the unit (Linux would
     * dereference NULL: its callers only ask for attached domains).
     */
    static int domainIdIommu(Domain domain, LinuxUnit iommu) {
        DomainInfo info = domain.iommuArray.load(iommu.seqId);
        return info == null ? -1 : info.did;
    }

    /** The refcnt of the domain's {@code iommu_domain_info} on this unit, 0 when absent. */
    int refcnt(Domain domain) {
        DomainInfo info = domain.iommuArray.load(seqId);
        return info == null ? 0 : info.refcnt;
    }

    /**
     * What {@code copy_context_table} does for each present context entry a
     * kdump kernel inherits: {@code ida_alloc_range(&iommu->domain_ida, did,
     * did)}, an id held with no domain. The benchmark's "ids held without a
     * guest". Returns the id, or {@link #ENOSPC} when it is held already.
     */
    int holdCopiedDid(int did) {
        return domainIda.allocRange(did, did);
    }

    /** Whether the IDA holds the DID (for the tests). */
    boolean didInUse(int did) {
        return domainIda.exists(did);
    }

    /**
     * Probe (device_rbtree_insert) if needed, then the DID part of
     * {@code dmar_domain_attach_device}: {@code domain_attach_iommu}, then
     * {@code info->domain = domain}. 0 or {@link #ENOSPC}.
     */
    int attachDevice(int rid, Domain domain) {
        DeviceInfo dev = deviceRbtree.computeIfAbsent(rid, DeviceInfo::new);
        if (dev.domain != null) {
            throw new IllegalStateException("device " + rid + " is attached already");
        }
        int ret = domainAttachIommu(domain);
        if (ret == 0) {
            dev.domain = domain;
        }
        return ret;
    }

    /** The DID part of detaching a device ({@code device_block_translation}): {@code domain_detach_iommu}. */
    void detachDevice(int rid) {
        DeviceInfo dev = deviceRbtree.get(rid);
        if (dev == null || dev.domain == null) {
            throw new IllegalStateException("device " + rid + " is not attached");
        }
        domainDetachIommu(dev.domain);
        dev.domain = null;
    }

    /**
     * DID to domain, the only way Linux could answer it: walk
     * {@code iommu->device_rbtree} in order (rb_first/rb_next) and compare each
     * attached device's {@code domain_id_iommu}. O(devices on the unit); Linux
     * has no such function because it never needs the answer (see the class
     * comment); it would hold {@code iommu->device_rbtree_lock}, not taken
     * here. null when no device's domain holds the DID.
     */
    Domain domainOfDid(int did) {
        for (DeviceInfo dev : deviceRbtree.values()) {
            Domain domain = dev.domain;
            if (domain != null && domainIdIommu(domain, this) == did) {
                return domain;
            }
        }
        return null;
    }

    /**
     * A domain's xarray of {@code iommu_domain_info} indexed by seq_id, with the
     * lookup semantics of {@code xa_load}/{@code xa_cmpxchg}/{@code xa_erase}
     * and the XArray's shape: a lone entry at index 0 lives in {@code xa_head}
     * itself (one load), anything else in one {@code xa_node} of
     * {@value #XA_CHUNK_SIZE} slots (head, then slot); erasing back to index 0
     * alone shrinks the node away ({@code xas_shrink}).
     *
     * <p>What the real XArray costs that this does not: the {@code xas_*}
     * state machine (entry-type tests such as {@code xa_is_node}/
     * {@code xa_is_internal}, retry entries), RCU around loads, marks upkeep,
     * and a {@code kmem_cache_alloc} of a 576-byte node rather than a Java
     * array. A seq_id of 64 or more (DMAR_UNITS_SUPPORTED is 64, or
     * MAX_IO_APICS = 128 with interrupt remapping) would add a node level,
     * one dependent load; it is not modelled.
     */
    static final class IommuArray {
        static final int XA_CHUNK_SIZE = 64;

        private static final class Node {
            final DomainInfo[] slots = new DomainInfo[XA_CHUNK_SIZE];
            int count;
        }

        /** null, the {@link DomainInfo} at index 0, or a {@link Node}. */
        private Object head;

        /** {@code xa_load(xa, index)}. */
        DomainInfo load(int index) {
            Object entry = head;
            if (entry instanceof Node node) {
                return node.slots[index];
            }
            return index == 0 ? (DomainInfo) entry : null;
        }

        /** {@code xa_cmpxchg(xa, index, old, entry)} under xa_lock: stores when the slot holds old; returns what it held. */
        synchronized DomainInfo cmpxchg(int index, DomainInfo old, DomainInfo entry) {
            DomainInfo curr = load(index);
            if (curr != old) {
                return curr;
            }
            if (index == 0 && !(head instanceof Node)) {
                head = entry; // a lone entry at index 0 lives in xa_head
                return curr;
            }
            Node node;
            if (head instanceof Node n) {
                node = n;
            } else {
                node = new Node(); // xas_expand: the head entry (index 0) moves into slot 0
                if (head != null) {
                    node.slots[0] = (DomainInfo) head;
                    node.count = 1;
                }
                head = node;
            }
            if (node.slots[index] == null && entry != null) {
                node.count++;
            }
            node.slots[index] = entry;
            return curr;
        }

        /** {@code xa_erase(xa, index)} under xa_lock, shrinking the tree as {@code xas_store(NULL)} does. */
        synchronized DomainInfo erase(int index) {
            Object entry = head;
            if (!(entry instanceof Node node)) {
                if (index == 0) {
                    head = null;
                    return (DomainInfo) entry;
                }
                return null;
            }
            DomainInfo old = node.slots[index];
            if (old != null) {
                node.slots[index] = null;
                node.count--;
                if (node.count == 0) {
                    head = null; // xas_delete_node
                } else if (node.count == 1 && node.slots[0] != null) {
                    head = node.slots[0]; // xas_shrink
                }
            }
            return old;
        }

        /** Whether a node is allocated (for the test of the XArray's shape). */
        boolean hasNode() {
            return head instanceof Node;
        }
    }

    /**
     * lib/idr.c's IDA (the XArray version, since Linux 4.19): ids in chunks of
     * {@value #IDA_BITMAP_BITS} bits, an XArray indexed by chunk. A chunk is
     * absent (all free), a value entry (only bits below
     * {@value #BITS_PER_XA_VALUE} set, kept in the slot itself) or a 128-byte
     * {@code struct ida_bitmap}. The node's {@code XA_FREE_MARK} bitmap says
     * which chunks may have a free bit: absent and value entries are always
     * marked, a bitmap loses its mark when full. A unit has at most 65,536 ids,
     * 64 chunks: one node, whose mark word is {@link #freeMark}.
     *
     * <p>{@link #allocRange} is {@code ida_alloc_range}: {@code xas_find_marked}
     * for the first marked chunk, then {@code find_next_zero_bit} in it, moving
     * to the next marked chunk when it has none: the lowest free id in
     * [min, max]. {@link #free} is {@code ida_free}. Each runs under the IDA's
     * xa_lock ({@code xas_lock_irqsave}), here {@code synchronized}. Not
     * modelled: the {@code xas_*} walk itself, the irq save/restore and the
     * {@code kzalloc(GFP_NOWAIT)}/{@code kfree} of a bitmap (a Java array).
     */
    static final class Ida {
        static final int IDA_BITMAP_BITS = 1024; // IDA_BITMAP_LONGS * BITS_PER_LONG, 128 bytes
        static final int IDA_BITMAP_LONGS = IDA_BITMAP_BITS / 64;
        static final int BITS_PER_XA_VALUE = 63; // BITS_PER_LONG - 1
        static final int CHUNKS = 64; // one xa_node: XA_CHUNK_SIZE
        static final int MAX_IDS = CHUNKS * IDA_BITMAP_BITS; // 65,536

        /** XA_FREE_MARK of the one node: bit c set when chunk c may have a free id. */
        private long freeMark = -1L;
        /** Chunks held as value entries (bit c), and their values. */
        private long valueEntries;
        private final long[] values = new long[CHUNKS];
        /** Chunks held as struct ida_bitmap. */
        private final long[][] bitmaps = new long[CHUNKS][];

        /** {@code ida_alloc_range(ida, min, max, gfp)}: the lowest free id in [min, max], or {@link LinuxUnit#ENOSPC}. */
        synchronized int allocRange(int min, int max) {
            if (min < 0 || max >= MAX_IDS || min > max) {
                throw new IllegalArgumentException("ida range " + min + ".." + max + ": modelled 0.." + (MAX_IDS - 1));
            }
            int minChunk = min / IDA_BITMAP_BITS;
            int maxChunk = max / IDA_BITMAP_BITS;
            int from = minChunk;
            int bit = min % IDA_BITMAP_BITS;
            while (true) {
                // next: bitmap = xas_find_marked(&xas, max / IDA_BITMAP_BITS, XA_FREE_MARK)
                long marked = from < CHUNKS ? freeMark & (-1L << from) : 0;
                int index = marked == 0 ? CHUNKS : Long.numberOfTrailingZeros(marked);
                if (index > maxChunk) {
                    return ENOSPC; // nothing marked up to max: xa_index past max
                }
                if (index > minChunk) {
                    bit = 0;
                }
                int base = index * IDA_BITMAP_BITS;
                if (base + bit > max) {
                    return ENOSPC;
                }
                long[] bitmap = bitmaps[index];
                if ((valueEntries & (1L << index)) != 0) {
                    long tmp = values[index];
                    if (bit < BITS_PER_XA_VALUE) {
                        bit = findNextZeroBit(tmp, BITS_PER_XA_VALUE, bit);
                        if (base + bit > max) {
                            return ENOSPC;
                        }
                        if (bit < BITS_PER_XA_VALUE) {
                            values[index] = tmp | (1L << bit);
                            return base + bit;
                        }
                    }
                    // the value entry is full (or the search starts above it): it becomes a bitmap
                    bitmap = new long[IDA_BITMAP_LONGS];
                    bitmap[0] = tmp;
                    valueEntries &= ~(1L << index);
                    values[index] = 0;
                    bitmaps[index] = bitmap;
                }
                if (bitmap != null) {
                    bit = findNextZeroBit(bitmap, bit);
                    if (base + bit > max) {
                        return ENOSPC;
                    }
                    if (bit == IDA_BITMAP_BITS) {
                        from = index + 1; // goto next: the walk goes on past this chunk
                        continue;
                    }
                    bitmap[bit >>> 6] |= 1L << bit;
                    if (full(bitmap)) {
                        freeMark &= ~(1L << index); // xas_clear_mark(&xas, XA_FREE_MARK)
                    }
                } else if (bit < BITS_PER_XA_VALUE) {
                    valueEntries |= 1L << index; // xa_mk_value(1UL << bit)
                    values[index] = 1L << bit;
                } else {
                    bitmap = new long[IDA_BITMAP_LONGS];
                    bitmap[bit >>> 6] |= 1L << bit;
                    bitmaps[index] = bitmap;
                }
                return base + bit;
            }
        }

        /** {@code ida_free(ida, id)}. Linux WARNs on an id not allocated; this throws. */
        synchronized void free(int id) {
            int index = id / IDA_BITMAP_BITS;
            int bit = id % IDA_BITMAP_BITS;
            if ((valueEntries & (1L << index)) != 0) {
                long v = values[index];
                if (bit >= BITS_PER_XA_VALUE || (v & (1L << bit)) == 0) {
                    throw notAllocated(id);
                }
                v &= ~(1L << bit);
                if (v == 0) {
                    valueEntries &= ~(1L << index); // goto delete: xas_store(&xas, NULL)
                }
                values[index] = v;
                return;
            }
            long[] bitmap = bitmaps[index];
            if (bitmap == null || (bitmap[bit >>> 6] & (1L << bit)) == 0) {
                throw notAllocated(id);
            }
            bitmap[bit >>> 6] &= ~(1L << bit);
            freeMark |= 1L << index; // xas_set_mark(&xas, XA_FREE_MARK)
            if (empty(bitmap)) {
                bitmaps[index] = null; // kfree(bitmap); xas_store(&xas, NULL)
            }
        }

        /** Whether the id is allocated (xas_load of its chunk, then the bit). */
        synchronized boolean exists(int id) {
            int index = id / IDA_BITMAP_BITS;
            int bit = id % IDA_BITMAP_BITS;
            if ((valueEntries & (1L << index)) != 0) {
                return bit < BITS_PER_XA_VALUE && (values[index] & (1L << bit)) != 0;
            }
            long[] bitmap = bitmaps[index];
            return bitmap != null && (bitmap[bit >>> 6] & (1L << bit)) != 0;
        }

        private static IllegalStateException notAllocated(int id) {
            return new IllegalStateException("ida_free called for id=" + id + " which is not allocated.");
        }

        /** find_next_zero_bit over one word of {@code size} bits: size when none. */
        private static int findNextZeroBit(long word, int size, int from) {
            long free = ~word & (-1L << from);
            int bit = free == 0 ? 64 : Long.numberOfTrailingZeros(free);
            return Math.min(bit, size);
        }

        /** find_next_zero_bit(bitmap, IDA_BITMAP_BITS, from), a word at a time: IDA_BITMAP_BITS when none. */
        private static int findNextZeroBit(long[] bitmap, int from) {
            int w = from >>> 6;
            long free = ~bitmap[w] & (-1L << from);
            while (free == 0) {
                if (++w == IDA_BITMAP_LONGS) {
                    return IDA_BITMAP_BITS;
                }
                free = ~bitmap[w];
            }
            return (w << 6) + Long.numberOfTrailingZeros(free);
        }

        private static boolean full(long[] bitmap) {
            for (long word : bitmap) {
                if (word != -1L) {
                    return false;
                }
            }
            return true;
        }

        private static boolean empty(long[] bitmap) {
            for (long word : bitmap) {
                if (word != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
