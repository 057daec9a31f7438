package iommu.amdvi;

/**
 * An IVRS table, or one block of it, is malformed. The message is one line:
 * where (byte offset, block), what is wrong, and what was expected.
 */
final class IvrsFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    IvrsFormatException(String message) {
        super(message);
    }
}
