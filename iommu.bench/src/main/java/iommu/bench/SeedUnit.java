package iommu.bench;

/**
 * The seed's algorithm: one VT-d unit's domain ids as the 2009 Xen patch
 * "VT-d: per-iommu domain-id" (b9c20c78789f) keeps them in
 * xen/drivers/passthrough/vtd/iommu.c, re-implemented here only to be
 * measured against. Not used by the platform.
 *
 * <ul>
 * <li>{@code iommu->domid_bitmap}: a flat bitmap of {@code cap_ndoms()} bits,
 *     searched with find_first_bit / find_next_bit / find_first_zero_bit, one
 *     machine word at a time (here a {@code long}, as on x86-64);</li>
 * <li>{@code iommu->domid_map[did]}: the Xen domain id (domid_t, 16 bits)
 *     holding each DID, so DID to guest is an array read
 *     ({@code context_get_domain_id});</li>
 * <li>guest to DID ({@code domain_iommu_domid}, called on every IOTLB flush
 *     of the guest, and by {@code context_set_domain_id} to find a DID to
 *     reuse) is a linear walk over the set bits comparing
 *     {@code domid_map[i]}: O(NR_DID).</li>
 * </ul>
 *
 * DID 0 is held back as the seed does under caching mode (bit 0 set, and,
 * after Xen's later fix, {@code domid_map[0] = DOMID_INVALID}), so that both
 * implementations have the same usable ids.
 */
final class SeedUnit {

    /** Xen's DOMID_INVALID: never a guest's id, so never matched by a search. */
    static final char DOMID_INVALID = 0x7FF4;

    private final int nrDom;
    private final long[] domidBitmap;
    private final char[] domidMap;

    SeedUnit(int nrDom) {
        this.nrDom = nrDom;
        this.domidBitmap = new long[(nrDom + 63) >>> 6];
        this.domidMap = new char[nrDom];
        domidMap[0] = DOMID_INVALID;
        setBit(0);
    }

    int nrDom() {
        return nrDom;
    }

    /**
     * {@code domain_iommu_domid(d, iommu)}: the guest's DID on this unit, or -1.
     * A linear walk of the set bits comparing domid_map.
     */
    int domainIommuDomid(int domainId) {
        int i = findFirstBit();
        while (i < nrDom) {
            if (domidMap[i] == domainId) {
                return i;
            }
            i = findNextBit(i + 1);
        }
        return -1;
    }

    /**
     * {@code context_set_domain_id(context, d, iommu)}: the DID to put into the
     * guest's context entry: the one it holds on the unit (found by the same
     * linear walk), else the lowest free one, recorded in domid_map. -1 when
     * every DID is in use (the seed's -EFAULT).
     */
    int contextSetDomainId(int domainId) {
        int i = findFirstBit();
        boolean found = false;
        while (i < nrDom) {
            if (domidMap[i] == domainId) {
                found = true;
                break;
            }
            i = findNextBit(i + 1);
        }
        if (!found) {
            i = findFirstZeroBit();
            if (i >= nrDom) {
                return -1;
            }
            domidMap[i] = (char) domainId;
        }
        setBit(i);
        return i;
    }

    /**
     * The tail of {@code domain_context_unmap(domain, bus, devfn)} when the
     * guest has no other device under the unit: find its DID by the linear
     * walk, clear the bit and the domid_map slot. Returns the DID, or -1
     * (the seed's -EINVAL) when the guest held none.
     */
    int releaseDomainId(int domainId) {
        int iommuDomid = domainIommuDomid(domainId);
        if (iommuDomid == -1) {
            return -1;
        }
        clearBit(iommuDomid);
        domidMap[iommuDomid] = 0;
        return iommuDomid;
    }

    /** {@code context_get_domain_id(context, iommu)}: DID to guest, an array read; -1 when out of range. */
    int contextGetDomainId(int did) {
        return did < nrDom ? domidMap[did] : -1;
    }

    /** Holds a DID out of use without a guest (as a quarantined id), marked DOMID_INVALID. */
    void holdOutOfUse(int did) {
        setBit(did);
        domidMap[did] = DOMID_INVALID;
    }

    boolean isSet(int did) {
        return (domidBitmap[did >>> 6] & (1L << did)) != 0;
    }

    // ---- Xen's bitops, word at a time

    private void setBit(int i) {
        domidBitmap[i >>> 6] |= 1L << i;
    }

    private void clearBit(int i) {
        domidBitmap[i >>> 6] &= ~(1L << i);
    }

    private int findFirstBit() {
        return findNextBit(0);
    }

    /** The first set bit at or after {@code from}, or nrDom when none. */
    private int findNextBit(int from) {
        if (from >= nrDom) {
            return nrDom;
        }
        int w = from >>> 6;
        long word = domidBitmap[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                return Math.min(nrDom, (w << 6) + Long.numberOfTrailingZeros(word));
            }
            if (++w == domidBitmap.length) {
                return nrDom;
            }
            word = domidBitmap[w];
        }
    }

    /** The first clear bit, or nrDom when none. */
    private int findFirstZeroBit() {
        for (int w = 0; w < domidBitmap.length; w++) {
            long word = ~domidBitmap[w];
            if (word != 0) {
                return Math.min(nrDom, (w << 6) + Long.numberOfTrailingZeros(word));
            }
        }
        return nrDom;
    }
}
