package iommu.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/**
 * One IOMMU group: the devices whose DMA reaches their unit with one final
 * requester id, so that the unit cannot tell them apart (Linux
 * {@code pci_device_group}). A group is owned whole, by one guest or by the
 * host.
 *
 * @since 1.1
 */
public class GroupDTO extends DTO {
    /** The group's number: groups are numbered from 0 in the order of their requester ids. */
    public int group;
    /** The unit translating the group's DMA. */
    public String unit;
    /** {@code SSSS:BB:DD.F}: the requester id the unit sees for every member's DMA. */
    public String requesterId;
    /** The members, {@code SSSS:BB:DD.F}, by address. */
    public List<String> devices;
    /** The guest owning the group; null when the host owns it. */
    public Integer guest;
    /** Its devices are in quarantine (then {@link #guest} is null); since 1.2. */
    public boolean quarantined;
}
