package iommu.console;

import iommu.console.dto.DetachedDTO;
import iommu.console.dto.DetachedDeviceDTO;

/** {@code detach}: a row per device, with the guest, unit and domain id it had. */
final class DetachedFormat extends Format<DetachedDTO> {

    DetachedFormat() {
        super(DetachedDTO.class);
    }

    @Override
    String text(DetachedDTO v) {
        Table t = new Table("BDF", "GUEST", "UNIT", "DID").alignRight(1, 3);
        for (DetachedDeviceDTO d : v.devices) {
            t.row(d.bdf, d.guest, d.unit, d.did);
        }
        return "detached\n" + t.render();
    }

    @Override
    String line(DetachedDTO v) {
        return "detached " + v.devices.size() + (v.devices.size() == 1 ? " device" : " devices");
    }
}
