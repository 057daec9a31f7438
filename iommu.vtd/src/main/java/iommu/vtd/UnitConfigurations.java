package iommu.vtd;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads a unit definition from the properties of an {@code iommu.vtd.unit}
 * factory configuration (see {@link VtdUnitConfiguration.Config}). Properties
 * are read raw rather than through the component property type, so that
 * every malformed value gets a message naming the property and what was
 * expected.
 */
final class UnitConfigurations {

    static final String ID = "id";
    static final String SEGMENT = "segment";
    static final String REGISTER_BASE = "registerBase";
    static final String CAP = "cap";
    static final String ECAP = "ecap";
    static final String INCLUDE_PCI_ALL = "includePciAll";
    static final String SCOPE = "scope";

    private UnitConfigurations() {
    }

    /**
     * @throws IllegalArgumentException naming the property, the value and what was expected
     */
    static UnitDefinition parse(Map<String, ?> properties) {
        String id = string(properties, ID, "a unit id such as dmar4");
        int segment = segment(properties.get(SEGMENT));
        long base = Numbers.hex64(REGISTER_BASE, string(properties, REGISTER_BASE, "a hexadecimal address such as 0xfed90000"));
        Capability cap = Capability.decode(Numbers.hex64(CAP, string(properties, CAP, "a hexadecimal CAP value such as d2008c40660462")));
        ExtendedCapability ecap = ExtendedCapability.decode(
                Numbers.hex64(ECAP, string(properties, ECAP, "a hexadecimal ECAP value such as f050da")));
        boolean includePciAll = bool(properties.get(INCLUDE_PCI_ALL));
        List<String> lines = strings(properties.get(SCOPE));
        List<DeviceScope> scopes = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i) == null || lines.get(i).isBlank()) {
                continue; // a metatype form leaves an empty line for "no scope"
            }
            try {
                scopes.add(DeviceScope.parse(lines.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(SCOPE + "[" + i + "]: " + e.getMessage());
            }
        }
        return new UnitDefinition(id, segment, base, cap, ecap, includePciAll, scopes);
    }

    private static String string(Map<String, ?> properties, String key, String expected) {
        Object value = properties.get(key);
        if (value instanceof String s && !s.isBlank()) {
            return s.trim();
        }
        if (value == null || value instanceof String) {
            throw new IllegalArgumentException("missing property " + key + ": expected " + expected);
        }
        throw new IllegalArgumentException("property " + key + " is a " + value.getClass().getSimpleName()
                + ": expected a String, " + expected);
    }

    private static int segment(Object value) {
        if (value == null) {
            return 0;
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short) {
            long v = ((Number) value).longValue();
            if (v < 0 || v > 0xFFFF) {
                throw new IllegalArgumentException(SEGMENT + " " + v + " out of range: expected 0..65535");
            }
            return (int) v;
        }
        if (value instanceof String s) {
            return Numbers.number(SEGMENT, s, 0, 0xFFFF);
        }
        throw new IllegalArgumentException("property " + SEGMENT + " is a " + value.getClass().getSimpleName()
                + ": expected an integer 0..65535");
    }

    private static boolean bool(Object value) {
        if (value == null) {
            return false;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        if (value instanceof String s && (s.trim().equalsIgnoreCase("true") || s.trim().equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(s.trim());
        }
        throw new IllegalArgumentException("bad " + INCLUDE_PCI_ALL + " '" + value + "': expected true or false");
    }

    private static List<String> strings(Object value) {
        List<String> result = new ArrayList<>();
        if (value == null) {
            return result;
        }
        if (value instanceof String s) {
            result.add(s);
        } else if (value instanceof String[] array) {
            result.addAll(List.of(array));
        } else if (value instanceof Collection<?> collection && collection.stream().allMatch(String.class::isInstance)) {
            collection.forEach(o -> result.add((String) o));
        } else {
            throw new IllegalArgumentException("property " + SCOPE + " is a " + value.getClass().getSimpleName()
                    + ": expected a String[] of lines such as 'endpoint 0000:00:02.0' or 'bridge 0000:00:1c.0 02-05'");
        }
        return result;
    }
}
