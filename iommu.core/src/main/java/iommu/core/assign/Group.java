package iommu.core.assign;

import java.util.List;
import java.util.Set;

import iommu.api.PciAddress;

/**
 * An IOMMU group: the devices of one unit whose DMA reaches it with one final
 * requester id, so the unit cannot tell them apart and they are owned whole
 * (Linux {@code pci_device_group}; Xen {@code intel_iommu_group_id}).
 *
 * @param number the group's number, from 0 in the order of the requester ids
 * @param requesterId the id the unit finally sees for every member's DMA
 * @param members the devices, by address
 * @param entryIds every requester id the members' DMA can carry (their own ids, then the
 *        aliases): each gets a context entry while the group is attached
 */
public record Group(int number, String unitId, PciAddress requesterId, List<PciAddress> members,
        Set<PciAddress> entryIds) {

    public Group {
        members = List.copyOf(members);
        entryIds = Set.copyOf(entryIds);
    }

    /** The members other than {@code device}. */
    public List<PciAddress> others(PciAddress device) {
        return members.stream().filter(m -> !m.equals(device)).toList();
    }
}
