package iommu.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The formats of the command results, one per result type, and the one place
 * that picks a result's form: its text, its line in a list, or its JSON.
 */
final class Formats {

    private static final Map<Class<?>, Format<?>> ALL = index(List.of(new UnitsFormat(), new UnitFormat(),
            new DevicesFormat(), new GuestsFormat(), new GuestFormat(), new GroupsFormat(), new GroupFormat(), new DetachedFormat(), new DomainsFormat(), new ContextFormat(),
            new TranslationFormat(), new FlushFormat(), new StatsFormat(), new StrategiesFormat(),
            new CapacityFormat(), new DiscoveredFormat(), new StateFormat(), new RegionsFormat()));

    private Formats() {
    }

    private static Map<Class<?>, Format<?>> index(List<Format<?>> formats) {
        Map<Class<?>, Format<?>> out = new LinkedHashMap<>();
        for (Format<?> f : formats) {
            if (out.put(f.type, f) != null) {
                throw new IllegalStateException("two formats for " + f.type);
            }
        }
        return out;
    }

    /** The result types that have a format. */
    static java.util.Set<Class<?>> types() {
        return ALL.keySet();
    }

    @SuppressWarnings("unchecked")
    private static Format<Object> of(Object value) {
        return value == null ? null : (Format<Object>) ALL.get(value.getClass());
    }

    /** The text of a result; null when it has no format (nor is a JSON view). */
    static String text(Object value) {
        if (value instanceof Json j) {
            return j.text();
        }
        Format<Object> f = of(value);
        return f == null ? null : f.text(value);
    }

    /** One line for a result in a list; null when it has no format. */
    static String line(Object value) {
        Object v = value instanceof Json j ? j.value : value;
        Format<Object> f = of(v);
        return f == null ? null : f.line(v);
    }

    /** The JSON text of a result (of the value its format says, e.g. a listing's array). */
    static String json(Object value) {
        Format<Object> f = of(value);
        return JsonWriter.write(f == null ? value : f.json(value));
    }
}
