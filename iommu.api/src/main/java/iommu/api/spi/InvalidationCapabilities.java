package iommu.api.spi;

/**
 * What a unit's invalidation hardware can do, so that a flush picks the
 * finest granularity the unit allows.
 *
 * @param cachingMode the unit caches not-present entries too (VT-d CAP.CM):
 *        a change from not-present to present needs an invalidation
 * @param pageSelective page-selective invalidation is supported (VT-d CAP.PSI)
 * @param maxPageOrder the largest range one page-selective invalidation
 *        covers, as a power of two of 4 KiB pages (VT-d CAP.MAMV)
 * @param queued invalidations go through a queue (VT-d ECAP.QI, AMD-Vi
 *        command buffer) rather than registers
 */
public record InvalidationCapabilities(boolean cachingMode, boolean pageSelective, int maxPageOrder, boolean queued) {
}
