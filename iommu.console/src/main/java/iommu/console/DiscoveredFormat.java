package iommu.console;

import iommu.console.dto.DiscoveredDTO;

/** {@code discover PATH}: what was read, what registered, and the warnings. */
final class DiscoveredFormat extends Format<DiscoveredDTO> {

    DiscoveredFormat() {
        super(DiscoveredDTO.class);
    }

    @Override
    String text(DiscoveredDTO v) {
        KeyValues kv = new KeyValues();
        kv.put("source", v.source);
        kv.put("format", v.format + " (vendor " + v.vendor + ")");
        kv.put("units", v.units.isEmpty() ? "none registered" : v.units.size() + ": " + String.join(", ", v.units));
        kv.put("devices", v.devices);
        kv.put("warnings", v.warnings.isEmpty() ? "none" : Integer.toString(v.warnings.size()));
        StringBuilder sb = new StringBuilder(kv.render());
        for (String w : v.warnings) {
            sb.append("\n  ").append(CoreText.oneLine(w));
        }
        return sb.toString();
    }
}
