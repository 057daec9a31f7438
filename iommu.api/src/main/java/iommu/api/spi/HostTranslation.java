package iommu.api.spi;

/**
 * How a unit translates the DMA of the host's own devices, the ones no guest
 * holds, when they are put in the host domain: Linux gives each IOMMU group a
 * default domain (the identity domain in pass-through, or an identity-mapped
 * table: {@code si_domain}), Xen puts them in dom0's.
 *
 * @since 1.3
 */
public enum HostTranslation {
    /** The unit has no host domain: a host-owned device has no context entry and its DMA faults. */
    NONE,
    /** Requests pass untranslated (VT-d TT=2 where ECAP.PT allows it; AMD-Vi a DTE with mode 0). */
    PASS_THROUGH,
    /** Through an I/O page table that maps the host's memory to itself (VT-d without ECAP.PT). */
    IDENTITY
}
