package iommu.api;

/**
 * A refused or failed platform operation. Its message is one line that says
 * what was wrong and what was expected; the operation changed nothing.
 */
public class IommuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IommuException(String message) {
        super(message);
    }

    public IommuException(String message, Throwable cause) {
        super(message, cause);
    }
}
