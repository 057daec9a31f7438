package iommu.console;

import java.util.StringJoiner;

import iommu.console.dto.GuestDetailDTO;

/** {@code guest ID} and {@code attach}: the guest's domain id per unit, then its devices. */
final class GuestFormat extends Format<GuestDetailDTO> {

    GuestFormat() {
        super(GuestDetailDTO.class);
    }

    @Override
    String text(GuestDetailDTO g) {
        int devices = g.devices == null ? 0 : g.devices.size();
        StringBuilder sb = new StringBuilder();
        sb.append("guest ").append(g.guest).append(": ").append(devices).append(devices == 1 ? " device" : " devices")
                .append(" on ").append(g.dids.size()).append(g.dids.size() == 1 ? " unit" : " units");
        StringJoiner ids = new StringJoiner(", ");
        g.dids.forEach((u, d) -> ids.add(u + " DID " + d));
        sb.append(g.dids.isEmpty() ? "" : " (" + ids + ")").append('\n');
        Table t = GuestsFormat.table();
        GuestsFormat.rows(t, g.guest, g.devices);
        return sb.append(t.render()).toString();
    }

    @Override
    String line(GuestDetailDTO g) {
        return "guest " + g.guest + " (" + (g.devices == null ? 0 : g.devices.size()) + " devices)";
    }
}
