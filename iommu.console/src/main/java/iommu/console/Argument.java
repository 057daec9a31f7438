package iommu.console;

import java.util.function.Function;

/**
 * A typed argument of an {@code iommu} command, as the console's converter
 * ({@link ConsoleConverter}) makes it from the word typed: the value it names,
 * or why it names none. The refusal is raised when the command takes the
 * value, not by the converter: Gogo would swallow it and answer "Cannot
 * coerce", while the command says what was wrong with which word, in the
 * order it checks its arguments.
 *
 * @param <T> what the word names
 */
abstract class Argument<T> {

    /** The word as typed. */
    final String typed;
    private final T value;
    private final IllegalArgumentException refusal;

    Argument(String typed, Function<String, T> parse) {
        this.typed = typed;
        T v = null;
        IllegalArgumentException why = null;
        try {
            v = parse.apply(typed);
        } catch (IllegalArgumentException e) {
            why = e;
        }
        this.value = v;
        this.refusal = why;
    }

    /** The value named, or the parser's one-line refusal. */
    T value() {
        if (refusal != null) {
            throw new IllegalArgumentException(refusal.getMessage(), refusal);
        }
        return value;
    }

    @Override
    public String toString() {
        return typed;
    }
}
