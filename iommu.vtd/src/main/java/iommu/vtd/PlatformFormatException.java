package iommu.vtd;

/**
 * A malformed platform description. The message is one line:
 * {@code FILE:LINE: what is wrong: what was expected}.
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

    /** The file (or resource) name. */
    public String source() {
        return source;
    }

    /** The 1-based line number. */
    public int line() {
        return line;
    }
}
