package iommu.console;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/** An aligned key/value block, as {@code scr:info} prints one. */
final class KeyValues {
    private final String indent;
    private final List<String[]> rows = new ArrayList<>();

    KeyValues() {
        this("");
    }

    KeyValues(String indent) {
        this.indent = indent;
    }

    void put(String key, Object value) {
        rows.add(new String[] {key, value == null ? "-" : String.valueOf(value)});
    }

    String render() {
        int w = 0;
        for (String[] r : rows) {
            w = Math.max(w, r[0].length());
        }
        StringJoiner out = new StringJoiner("\n");
        for (String[] r : rows) {
            out.add(indent + r[0] + " ".repeat(w - r[0].length() + 2) + r[1]);
        }
        return out.toString();
    }

    /** Ids as {@code 0,5,9}, or {@code none}. */
    static String ints(int[] values) {
        if (values == null || values.length == 0) {
            return "none";
        }
        StringJoiner j = new StringJoiner(",");
        for (int v : values) {
            j.add(Integer.toString(v));
        }
        return j.toString();
    }

    static String join(List<?> values) {
        StringJoiner j = new StringJoiner(", ");
        values.forEach(v -> j.add(String.valueOf(v)));
        return j.toString();
    }
}
