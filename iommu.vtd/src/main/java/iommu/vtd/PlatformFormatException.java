package iommu.vtd;

/**
 * A malformed platform description. The message is one line:
 * {@code FILE:LINE: what is wrong: what was expected}, or
 * {@code FILE: what is wrong: what was expected} where there are no lines (a
 * sysfs file as a whole, a binary table: see {@link DmarFormatException}).
 */
public class PlatformFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;

    public PlatformFormatException(String source, int line, String detail) {
        super(source + ":" + line + ": " + detail);
        this.source = source;
        this.line = line;
    }

    /** A problem with a file as a whole, or in a file that has no lines: {@code FILE: detail}. */
    public PlatformFormatException(String source, String detail) {
        this(source, 0, source + ": " + detail, true);
    }

    /** For subclasses that word the whole message themselves. */
    protected PlatformFormatException(String source, int line, String message, boolean whole) {
        super(message);
        this.source = source;
        this.line = line;
    }

    /** The file (or resource) name. */
    public String source() {
        return source;
    }

    /** The 1-based line number; 0 when the problem has no line. */
    public int line() {
        return line;
    }
}
