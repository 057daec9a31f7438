package iommu.console;

import iommu.api.dto.UnitDTO;
import iommu.console.dto.UnitListDTO;

/** {@code units}: a table of the units and their domain-id usage. */
final class UnitsFormat extends Format<UnitListDTO> {

    UnitsFormat() {
        super(UnitListDTO.class);
    }

    @Override
    String text(UnitListDTO v) {
        if (v.units.isEmpty()) {
            return "no IOMMU unit present";
        }
        Table t = new Table("UNIT", "VENDOR", "SEGMENT", "REGISTER-BASE", "PCI-ALL", "DIDS", "RESERVED", "USED", "FREE",
                "DEVICES")
                .alignRight(2, 5, 7, 8, 9);
        for (UnitDTO u : v.units) {
            t.row(u.id, u.vendor, String.format("%04x", u.segment), JsonWriter.hex(u.registerBase),
                    u.includePciAll ? "yes" : "no", u.domainIds, u.reserved == null || u.reserved.length == 0 ? "-"
                            : KeyValues.ints(u.reserved), u.usedDomainIds, free(u), u.devices);
        }
        return t.render();
    }

    static int free(UnitDTO u) {
        return Math.max(0, u.domainIds - (u.reserved == null ? 0 : u.reserved.length) - u.usedDomainIds);
    }

    @Override
    String line(UnitListDTO v) {
        return v.units.size() + " units";
    }

    @Override
    Object json(UnitListDTO v) {
        return v.units;
    }
}
