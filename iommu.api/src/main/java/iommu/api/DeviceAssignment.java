package iommu.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GroupDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.StateDTO;
import iommu.api.dto.UnitDTO;

/**
 * Attaches PCI devices to guests and detaches them, giving each guest a
 * domain id on the unit of each device it owns (from the bound
 * {@link iommu.api.spi.AllocationStrategy}).
 *
 * <p>Every operation is all-or-nothing: when it throws an
 * {@link IommuException}, nothing changed.
 */
@ProviderType
public interface DeviceAssignment {

    /**
     * Attaches the devices to the guest: each gets a context entry on its unit
     * tagged with the guest's domain id on that unit (reused when the guest
     * already has one there, else allocated).
     *
     * @return the guest with all its devices after the attach
     * @throws IommuException for a host guest id, an unknown device, a device
     *         already attached, no strategy bound, or no free domain id; then
     *         none of the devices was attached
     */
    default GuestDTO attach(GuestId guest, List<PciAddress> devices) {
        return attach(guest, devices, false);
    }

    /**
     * As {@link #attach(GuestId, List)}; with {@code allowReservedMemory} a
     * device with firmware-reserved memory (RMRR/IVMD) may be attached too,
     * which is otherwise refused: that memory is then identity-mapped in the
     * guest's I/O space while the guest holds the device (Xen
     * {@code rmrr_identity_mapping}), so the device's DMA there keeps
     * reaching it; the guest can neither map nor unmap pages there.
     */
    GuestDTO attach(GuestId guest, List<PciAddress> devices, boolean allowReservedMemory);

    /**
     * Detaches the devices from their guests: their context entries are
     * cleared and the unit caches invalidated; a guest's domain id on a unit is
     * released once its last device under that unit is gone and the
     * invalidation completed.
     *
     * @throws IommuException for an unknown or unattached device; then none of
     *         the devices was detached
     */
    void detach(List<PciAddress> devices);

    /**
     * Gives quarantined devices (detached while the core's {@code quarantine}
     * is {@code basic}) back to the host: their entries become the host
     * domain's again. Whole IOMMU groups, all or none.
     *
     * @throws IommuException for a device that is not quarantined, part of a
     *         group, or a unit that is away; then none was released
     * @since 1.2
     */
    void release(List<PciAddress> devices);

    /**
     * Maps {@code pages} 4 KiB pages of the guest's I/O address space from
     * {@code iova} to {@code hostAddress}, on every unit where the guest holds a
     * domain id now and on every unit it reaches later, then invalidates what
     * the units may have cached for that range.
     *
     * @throws IommuException for unaligned addresses, an empty or overflowing
     *         range, or a page mapped already; nothing changed
     */
    void map(GuestId guest, long iova, long hostAddress, long pages);

    /**
     * Unmaps {@code pages} pages of the guest's I/O address space from
     * {@code iova} and waits until the units invalidated them (page-selective
     * where the unit allows); pages not mapped are skipped.
     */
    void unmap(GuestId guest, long iova, long pages);

    /** Every guest holding at least one device, by guest id. */
    List<GuestDTO> guests();

    /** One guest, when it holds a device. */
    Optional<GuestDTO> guest(GuestId guest);

    /** Every device of every unit, with its owner. */
    List<DeviceDTO> devices();

    /** Every unit present, with its domain-id usage. */
    List<UnitDTO> units();

    /**
     * Every IOMMU group of the units present, by number, with its owner. A
     * group is attached and detached whole: {@link #attach} and
     * {@link #detach} refuse a part of one, naming every member.
     *
     * @since 1.1
     */
    List<GroupDTO> groups();

    /**
     * Where assignments are kept durably (configuration PID {@code iommu.core},
     * property {@code stateDirectory}) and what loading them found.
     */
    StateDTO state();

    /**
     * Per unit id, what the allocator did since this service started:
     * {@code allocations} (ids handed out), {@code releases} (ids given back
     * after their invalidation), {@code failures} (no free id) and
     * {@code quarantined} (ids held back because their invalidation failed).
     */
    Map<String, Map<String, Long>> allocationCounts();

    /**
     * Checks that the map, the bound strategy's bitmaps and every unit's
     * context entries agree (DESIGN section 7): one line per disagreement,
     * empty when everything agrees.
     */
    List<String> audit();

    /** The name of the bound allocation strategy, empty while none is bound. */
    Optional<String> strategy();

    /** The strategy the configuration asks for (PID {@code iommu.core}, property {@code strategy}). */
    String requestedStrategy();

    /**
     * Why the requested strategy is not the bound one, when it is not: not
     * available, or it refused the current assignments (one line, with the
     * numbers). Empty when the requested strategy is bound.
     */
    Optional<String> strategyProblem();
}
