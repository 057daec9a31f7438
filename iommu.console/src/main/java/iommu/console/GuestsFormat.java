package iommu.console;

import java.util.List;

import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.console.dto.GuestListDTO;

/** {@code guests}: a table of every guest's devices with their unit and domain id. */
final class GuestsFormat extends Format<GuestListDTO> {

    GuestsFormat() {
        super(GuestListDTO.class);
    }

    @Override
    String text(GuestListDTO v) {
        if (v.guests.isEmpty()) {
            return "no guest holds a device";
        }
        Table t = table();
        for (GuestDTO g : v.guests) {
            rows(t, g.guest, g.devices);
        }
        return t.render();
    }

    static Table table() {
        return new Table("GUEST", "BDF", "UNIT", "DID").alignRight(0, 3);
    }

    /** One guest's rows: a device a row, or one row of dashes when it has none. */
    static void rows(Table t, int guest, List<GuestDeviceDTO> devices) {
        if (devices == null || devices.isEmpty()) {
            t.row(guest, null, null, null);
            return;
        }
        for (GuestDeviceDTO d : devices) {
            t.row(guest, d.bdf, d.unit, d.did);
        }
    }

    @Override
    String line(GuestListDTO v) {
        return v.guests.size() + " guests";
    }

    @Override
    Object json(GuestListDTO v) {
        return v.guests;
    }
}
