package iommu.api.spi;

import java.util.Objects;

import iommu.api.DomainId;
import iommu.api.PciAddress;

/**
 * One vendor-neutral cache invalidation request. A unit carries each out
 * with its own mechanism (VT-d: context-cache and IOTLB invalidation,
 * register-based or queued; AMD-Vi: command buffer).
 */
public sealed interface Invalidation {

    /** The granularity name used in reports and counters. */
    String granularity();

    /** One device's cached context entry, which was tagged with {@code domainId}. */
    record Device(PciAddress device, DomainId domainId) implements Invalidation {
        public Device {
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(domainId, "domainId");
        }

        @Override
        public String granularity() {
            return "device";
        }
    }

    /** Every cached translation tagged with the domain id. */
    record Domain(DomainId domainId) implements Invalidation {
        public Domain {
            Objects.requireNonNull(domainId, "domainId");
        }

        @Override
        public String granularity() {
            return "domain";
        }
    }

    /**
     * The cached translations of 2^order 4 KiB pages from {@code iova}, tagged
     * with the domain id; {@code iova} is aligned to that size.
     */
    record Pages(DomainId domainId, long iova, int order) implements Invalidation {
        public Pages {
            Objects.requireNonNull(domainId, "domainId");
            if (order < 0 || order > 52) {
                throw new IllegalArgumentException("page order " + order + " out of range: expected 0..52");
            }
            if ((iova & ((4096L << order) - 1)) != 0) {
                throw new IllegalArgumentException(String.format(
                        "IOVA 0x%x not aligned to 2^%d pages", iova, order));
            }
        }

        public long pages() {
            return 1L << order;
        }

        @Override
        public String granularity() {
            return "pages";
        }
    }

    /**
     * What the device's own address-translation cache (its device-TLB, PCIe
     * ATS) holds of 2^order 4 KiB pages from {@code iova} ({@code iova}
     * aligned to that size); {@link #ALL} pages (order 52) is its whole
     * cache. A device-TLB is not tagged with domain ids: it caches the
     * translations of whatever context entry its requests went through, so
     * it is invalidated after the IOTLB of the domain it fetched them from
     * (Linux {@code cache_tag_flush_range} flushes IOTLB tags before
     * device-TLB tags), else it may fetch the stale entry again.
     *
     * @since 1.3
     */
    record DeviceTlb(PciAddress device, long iova, int order) implements Invalidation {
        /** The order of the whole cache: 2^52 pages, every 64-bit address. */
        public static final int ALL = 52;

        public DeviceTlb {
            Objects.requireNonNull(device, "device");
            if (order < 0 || order > ALL) {
                throw new IllegalArgumentException("page order " + order + " out of range: expected 0.." + ALL);
            }
            if (order < ALL && (iova & ((4096L << order) - 1)) != 0) {
                throw new IllegalArgumentException(String.format(
                        "IOVA 0x%x not aligned to 2^%d pages", iova, order));
            }
            if (order == ALL && iova != 0) {
                throw new IllegalArgumentException(String.format(
                        "IOVA 0x%x for the whole device-TLB: expected 0", iova));
            }
        }

        /** Everything the device's device-TLB caches. */
        public static DeviceTlb all(PciAddress device) {
            return new DeviceTlb(device, 0, ALL);
        }

        public boolean whole() {
            return order == ALL;
        }

        @Override
        public String granularity() {
            return "device-tlb";
        }
    }

    /** Everything the unit caches. */
    record Global() implements Invalidation {
        @Override
        public String granularity() {
            return "global";
        }
    }
}
