package iommu.core;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/** A device attached to a guest: the unit that translates it and the domain id its context entry holds. */
record Attachment(PciAddress device, GuestId guest, String unitId, DomainId domainId) {

    DeviceContext context() {
        return new DeviceContext(domainId, guest);
    }

    Attachment withDomainId(DomainId did) {
        return new Attachment(device, guest, unitId, did);
    }
}
