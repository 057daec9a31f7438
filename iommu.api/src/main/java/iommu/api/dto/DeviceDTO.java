package iommu.api.dto;

import org.osgi.dto.DTO;

/** One PCI device, the unit that translates its DMA and its owner. */
public class DeviceDTO extends DTO {
    /** {@code SSSS:BB:DD.F}. */
    public String bdf;
    /** The id of the unit translating it. */
    public String unit;
    /** The guest owning it; null when unattached (owned by the host). */
    public Integer guest;
    /** Firmware keeps memory for it (RMRR/IVMD): attaching needs an explicit override. */
    public boolean reservedMemory;
    /** The IOMMU group the device belongs to ({@link GroupDTO#group}); since 1.1. */
    public int group;
    /** Detached into quarantine: no guest's and not yet the host's again, its DMA faults; since 1.2. */
    public boolean quarantined;
    /** Its DMA goes through its own device-TLB (PCIe ATS, with the unit's and the firmware's consent); since 1.2. */
    public boolean ats;
}
