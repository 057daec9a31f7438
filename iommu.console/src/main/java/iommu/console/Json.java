package iommu.console;

/**
 * A command's result as asked for with {@code --json}: the shell prints the
 * value's JSON ({@link Formats#json}), as UTF-8 where it writes bytes. The
 * result itself does not know how it is shown.
 */
public final class Json {

    /** The result. */
    public final Object value;

    Json(Object value) {
        this.value = value;
    }

    /** The result, or its JSON view when {@code json}. */
    static Object or(boolean json, Object value) {
        return json ? new Json(value) : value;
    }

    /** The JSON text. */
    String text() {
        return Formats.json(value);
    }

    @Override
    public String toString() {
        return text();
    }
}
