package iommu.amdvi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import iommu.amdvi.Ivrs.Ivhd;

/**
 * The IOMMUs an IVRS table describes. Firmware describes one IOMMU by several
 * IVHD blocks (10h for old operating systems, 11h and 40h for newer ones,
 * with the same device id); like Linux, which uses only the highest type it
 * supports, each IOMMU is taken from its highest-type well-formed block, the
 * others being older views of the same unit. Which unit translates an id
 * named twice, and that no IOMMU translates its own function, is decided
 * here as Linux does it ({@link IvhdClaims}). Units are named {@code ivhdN}
 * in table order, as Linux names them in sysfs.
 *
 * @param units the units, well-formed and distinct
 * @param warnings the parser's warnings, then one per IVHD left out here
 */
record IvrsPlatform(Ivrs table, List<UnitDefinition> units, List<String> warnings) {

    static final String FORMAT = "acpi-ivrs";

    IvrsPlatform {
        units = List.copyOf(units);
        warnings = List.copyOf(warnings);
    }

    static IvrsPlatform of(Ivrs table) {
        Map<Long, Ivhd> chosen = new LinkedHashMap<>();
        for (Ivhd ivhd : table.ivhds()) {
            long key = (long) ivhd.segment() << 16 | ivhd.deviceId();
            Ivhd other = chosen.get(key);
            if (other == null || ivhd.type() > other.type()) {
                chosen.put(key, ivhd);
            }
        }
        List<String> warnings = new ArrayList<>(table.warnings());
        for (Ivrs.MalformedIvhd m : table.malformedIvhds()) {
            Ivhd instead = chosen.get((long) m.segment() << 16 | m.deviceId());
            String iommu = String.format("IVRS %s: IOMMU %s (base 0x%x)", table.source(),
                    Bdf.of(m.segment(), m.deviceId()), m.baseAddress());
            warnings.add(instead == null
                    ? String.format("%s not registered: its %s is malformed (above) and no other IVHD describes it",
                            iommu, m.describe())
                    : String.format("%s registered from its IVHD type %02xh at byte 0x%x: its %s is malformed"
                            + " (above)", iommu, instead.type(), instead.offset(), m.describe()));
        }
        List<UnitDefinition> units = new ArrayList<>();
        Map<Long, Ivhd> bases = new LinkedHashMap<>();
        for (Ivhd ivhd : chosen.values()) {
            Ivhd sameBase = bases.putIfAbsent(ivhd.baseAddress(), ivhd);
            if (sameBase != null) {
                warnings.add(String.format("IVRS %s: %s has the MMIO base of the %s: expected one IOMMU per base;"
                        + " left out", table.source(), ivhd.describe(), sameBase.describe()));
                continue;
            }
            units.add(UnitDefinition.of("ivhd" + units.size(), ivhd, table.ivinfo(), table.ivmds()));
        }
        return new IvrsPlatform(table, IvhdClaims.resolve(table.source(), units, warnings), warnings);
    }

    /** Parses and resolves the bytes; throws what the parser throws. */
    static IvrsPlatform parse(String source, byte[] bytes) {
        return of(IvrsParser.parse(source, bytes));
    }
}
