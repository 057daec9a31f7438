package iommu.console;

import iommu.console.dto.UnitDetailDTO;

/** {@code unit ID}: the unit's usage, then its registers decoded by name. */
final class UnitFormat extends Format<UnitDetailDTO> {

    UnitFormat() {
        super(UnitDetailDTO.class);
    }

    @Override
    String text(UnitDetailDTO u) {
        KeyValues kv = new KeyValues();
        kv.put("unit", u.id);
        kv.put("vendor", u.vendor);
        kv.put("segment", String.format("%04x", u.segment));
        kv.put("register base", JsonWriter.hex(u.registerBase));
        kv.put("include PCI all", u.includePciAll ? "yes" : "no");
        kv.put("domain ids", u.domainIds + " (" + u.usedDomainIds + " used, " + u.reserved.length + " reserved: "
                + KeyValues.ints(u.reserved) + ", " + u.freeDomainIds + " free)");
        kv.put("devices", u.devices + " (" + u.attachedDevices + " attached)");
        kv.put("guests", u.guests.isEmpty() ? "-" : KeyValues.join(u.guests));
        StringBuilder sb = new StringBuilder(kv.render());
        if (!u.decoded.isEmpty()) {
            sb.append("\ndecoded registers (IommuUnit.describe):\n");
            KeyValues d = new KeyValues("  ");
            u.decoded.forEach(d::put);
            sb.append(d.render());
        }
        return sb.toString();
    }

    @Override
    String line(UnitDetailDTO u) {
        return u.id + " (" + u.vendor + ", " + u.usedDomainIds + "/" + u.domainIds + " domain ids used)";
    }
}
