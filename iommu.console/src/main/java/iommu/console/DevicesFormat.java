package iommu.console;

import iommu.api.dto.DeviceDTO;
import iommu.console.dto.DeviceListDTO;

/** {@code devices}: a table of the devices, their unit, owner and IOMMU group. */
final class DevicesFormat extends Format<DeviceListDTO> {

    DevicesFormat() {
        super(DeviceListDTO.class);
    }

    @Override
    String text(DeviceListDTO v) {
        if (v.devices.isEmpty()) {
            return "no PCI device present";
        }
        Table t = new Table("BDF", "UNIT", "GUEST", "RESERVED-MEM", "GROUP", "ATS").alignRight(2, 4);
        for (DeviceDTO d : v.devices) {
            t.row(d.bdf, d.unit, d.quarantined ? "quarantined" : d.guest, d.reservedMemory ? "yes" : "no", d.group,
                    d.ats ? "yes" : "no");
        }
        return t.render();
    }

    @Override
    String line(DeviceListDTO v) {
        return v.devices.size() + " devices";
    }

    @Override
    Object json(DeviceListDTO v) {
        return v.devices;
    }
}
