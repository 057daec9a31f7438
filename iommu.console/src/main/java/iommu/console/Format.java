package iommu.console;

/**
 * How one type of command result prints for people: its table or text, and
 * one line when it is shown inside a list. Its JSON is the writer's
 * ({@link JsonWriter}), from the DTO's fields; a format only says which value
 * the JSON is of (a listing is the array of its items).
 *
 * @param <T> the result type
 */
abstract class Format<T> {

    final Class<T> type;

    Format(Class<T> type) {
        this.type = type;
    }

    /** The text a person reads. */
    abstract String text(T value);

    /** One line, for a result shown inside a list: the first line of the text unless said otherwise. */
    String line(T value) {
        String t = text(value);
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    /** What the JSON is written of: the result itself unless said otherwise. */
    Object json(T value) {
        return value;
    }
}
