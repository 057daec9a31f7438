package iommu.core.assign;

/** Errors are always one meaningful line. */
public final class OneLine {

    private OneLine() {
    }

    /** An exception's first line of message, or its type when it has none. */
    public static String of(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("");
    }
}
