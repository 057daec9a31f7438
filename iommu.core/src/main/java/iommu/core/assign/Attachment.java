package iommu.core.assign;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/** A device attached to a guest: the unit that translates it and the domain id its context entry holds. */
public record Attachment(PciAddress device, GuestId guest, String unitId, DomainId domainId) {

    public DeviceContext context() {
        return new DeviceContext(domainId, guest);
    }

    public Attachment withDomainId(DomainId did) {
        return new Attachment(device, guest, unitId, did);
    }
}
