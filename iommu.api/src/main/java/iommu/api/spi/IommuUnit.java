package iommu.api.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ConsumerType;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * One IOMMU unit (an Intel DRHD, an AMD IVHD), registered as a service by
 * its vendor bundle for as long as the unit is present. The service carries
 * the properties {@link #UNIT_ID} and {@link #VENDOR}.
 *
 * <p>A unit knows which devices it translates and holds their context
 * entries; the platform decides which domain id goes into them.
 */
@ConsumerType
public interface IommuUnit {

    /** Service property: the unit id, unique on the platform. */
    String UNIT_ID = "unit.id";
    /** Service property: the vendor name. */
    String VENDOR = "unit.vendor";

    /** The unit id, unique on the platform, e.g. {@code dmar0}. */
    String id();

    /** {@code vt-d}, {@code amd-vi}, ... */
    String vendor();

    /** The PCI segment it serves. */
    int segment();

    /** The physical address of its register set. */
    long registerBase();

    /** Whether it serves every device of its segment that no other unit claims. */
    boolean includePciAll();

    /** How many domain ids it supports, 0..count-1 (VT-d: decoded from CAP.ND). */
    int domainIdCount();

    /** The domain ids never to hand out (VT-d and AMD-Vi: 0). */
    Set<DomainId> reservedDomainIds();

    /** How this unit claims the device. */
    ScopeMatch scopeOf(PciAddress device);

    /** Every device present that this unit claims, in PCI address order. */
    List<PciAddress> devices();

    /**
     * The requester ids the device's DMA can reach this unit with, as Linux's
     * {@code pci_for_each_dma_alias} (drivers/pci/search.c) walks them: the
     * device's own id first, then each alias a bridge on its path introduces
     * (a PCIe-to-PCI/PCI-X bridge: its secondary bus with devfn 00.0; a
     * conventional PCI bridge: the bridge itself; AMD-Vi: the IVHD's alias
     * entries); the last is the id the unit finally sees. Devices whose last
     * ids are equal form one IOMMU group, owned whole. The platform gives
     * every id of the list a context entry ({@link #setContext}, which takes
     * any of them) when the device is attached.
     *
     * <p>The default, a device that is only ever seen with its own id, is
     * right for PCIe endpoints and SR-IOV functions.
     *
     * @return at least the device itself; empty when the unit does not claim it
     * @since 1.2
     */
    default List<PciAddress> dmaAliases(PciAddress device) {
        return scopeOf(device).claims() ? List.of(device) : List.of();
    }

    /**
     * The device's reserved I/O virtual address ranges, in address order
     * (Linux {@code intel_iommu_get_resv_regions},
     * {@code amd_iommu_get_resv_regions}): the interrupt window and the
     * firmware memory the device may DMA to. The platform maps no guest page
     * there. The default is the interrupt window alone.
     *
     * @since 1.2
     */
    default List<IovaRegion> reservedRegions(PciAddress device) {
        return scopeOf(device).claims() ? List.of(IovaRegion.INTERRUPT_WINDOW) : List.of();
    }

    /**
     * Whether firmware keeps memory for the device's own use that it DMAs to
     * behind the host's back (VT-d RMRR, AMD-Vi IVMD). Giving such a device to
     * a guest needs an explicit override, as Xen's strict RDM policy demands.
     */
    boolean hasReservedMemory(PciAddress device);

    /**
     * How the unit would translate host-owned devices put in a host domain
     * ({@link DeviceContext#host}); {@code NONE}, the default, when it has no
     * host domain, and is then never given a host context. A unit that names
     * one takes host contexts in {@link #setContext}, reads them back from
     * {@link #context}, and translates their DMA to the identity address.
     *
     * @since 1.3
     */
    default HostTranslation hostTranslation() {
        return HostTranslation.NONE;
    }

    /**
     * Points the device's context entry at the guest's address space, tagged
     * with the domain id; the entry becomes present. {@code device} is a
     * requester id: one of the unit's devices or one of their
     * {@link #dmaAliases} (since 1.2).
     *
     * @throws IllegalArgumentException when the device is not the unit's or
     *         the domain id is out of range or reserved; nothing changed
     */
    void setContext(PciAddress device, DeviceContext context);

    /** Makes the device's context entry not present. */
    void clearContext(PciAddress device);

    /** The device's present context entry, read back from the unit. */
    Optional<DeviceContext> context(PciAddress device);

    /**
     * Whether the unit came up on context and I/O page tables it found kept
     * from before (a state directory after a killed process, as a kdump kernel
     * finds the tables of the kernel that crashed) rather than on empty ones.
     * Its present context entries are then a record of their own: the platform
     * adopts their domain ids and reports where they and its journal disagree.
     *
     * @since 1.1
     */
    default boolean inheritedTables() {
        return false;
    }

    /**
     * When the tables kept for this unit could not be used and were set aside
     * (the launcher's {@code --rebuild-tables}), one line saying which file,
     * why, and what it was renamed to: the unit came up on empty tables, and
     * the platform writes its journal's assignments and mappings on them.
     * Empty otherwise (the default).
     *
     * @since 1.3
     */
    default Optional<String> tablesSetAside() {
        return Optional.empty();
    }

    /**
     * Whether the device's DMA may go through its own device-TLB (PCIe ATS:
     * VT-d ECAP.DT, the device's ATS capability, a root port or SATC that
     * the firmware reports for it, Linux {@code dmar_ats_supported}): every
     * change of what it may have cached (an unmap, its context entry cleared
     * or moved to another domain) then needs an {@link Invalidation.DeviceTlb}
     * after the IOTLB invalidation. False by default: a unit whose devices
     * have no device-TLB.
     *
     * @since 1.3
     */
    default boolean hasDeviceTlb(PciAddress device) {
        return false;
    }

    /**
     * The devices whose device-TLBs may hold translations of the domain id:
     * those with a device-TLB ({@link #hasDeviceTlb}) whose present context
     * entry holds it (Linux: the domain's {@code CACHE_TAG_DEVTLB} tags), in
     * PCI address order. Empty by default.
     *
     * @since 1.3
     */
    default List<PciAddress> deviceTlbs(DomainId domainId) {
        return List.of();
    }

    /** What the unit's invalidation hardware can do. */
    InvalidationCapabilities invalidationCapabilities();

    /**
     * Carries out a batch of invalidations; the stage completes when every one
     * of them completed on the unit (VT-d: one invalidation-wait descriptor per
     * batch), or completes exceptionally when the unit reported an error.
     */
    CompletionStage<Void> invalidate(List<Invalidation> batch);

    /** Maps {@code pages} 4 KiB pages of the guest's I/O space, from {@code iova} to {@code hostAddress}. */
    void map(GuestId guest, long iova, long hostAddress, long pages);

    /** Unmaps {@code pages} 4 KiB pages of the guest's I/O space from {@code iova}. */
    void unmap(GuestId guest, long iova, long pages);

    /**
     * What the guest's I/O page table on this unit maps, read back from the
     * unit, in IOVA order, adjacent pages with adjacent host addresses in one
     * range: a restarted platform takes them over with the context entries, as
     * it does the domain ids. Empty when the unit cannot tell (the default);
     * a present empty list when nothing is mapped.
     *
     * @since 1.1
     */
    default Optional<List<MappedRange>> mappings(GuestId guest) {
        return Optional.empty();
    }

    /** The DMA the device would do to {@code iova}: its host-physical address or a fault. */
    Translation translate(PciAddress device, long iova);

    /** How many invalidations of each granularity the unit received. */
    Map<String, Long> invalidationCounts();

    /**
     * The unit's registers and capabilities decoded by name, in display order,
     * for a person to read (VT-d: VER, CAP and ECAP fields). Values are
     * numbers, booleans or strings.
     */
    default Map<String, Object> describe() {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        fields.put("id", id());
        fields.put("vendor", vendor());
        fields.put("segment", segment());
        fields.put("registerBase", String.format("0x%x", registerBase()));
        fields.put("domainIds", domainIdCount());
        return fields;
    }

    /**
     * The device's context entry as the unit holds it, decoded by name in
     * display order (VT-d: present, TT, AW, SLPTPTR, DID and the raw 128 bits);
     * empty when the unit does not translate the device.
     */
    default Map<String, Object> describeContext(PciAddress device) {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        context(device).ifPresentOrElse(c -> {
            fields.put("present", true);
            fields.put("did", c.domainId().value());
            fields.put("guest", c.guest().value());
        }, () -> fields.put("present", false));
        return fields;
    }
}
