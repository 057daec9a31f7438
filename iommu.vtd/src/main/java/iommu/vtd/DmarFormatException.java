package iommu.vtd;

/**
 * A malformed ACPI DMAR table as a whole (header, checksum, length, a
 * structure whose length breaks the walk): nothing of it is used. The
 * message is one line, {@code FILE: WHERE: what is wrong: what was expected},
 * where {@code WHERE} names the byte offset and the structure, e.g.
 * {@code DRHD #2 at offset 0x78}.
 */
public class DmarFormatException extends PlatformFormatException {
    private static final long serialVersionUID = 1L;

    private final int offset;
    private final String where;

    public DmarFormatException(String source, int offset, String where, String detail) {
        super(source, 0, source + ": " + where + ": " + detail, true);
        this.offset = offset;
        this.where = where;
    }

    /** The byte offset in the table of the field or structure at fault. */
    public int offset() {
        return offset;
    }

    /** The structure at fault and its offset, e.g. {@code DRHD #2 at offset 0x78}, or {@code header}. */
    public String where() {
        return where;
    }
}
