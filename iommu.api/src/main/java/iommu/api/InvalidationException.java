package iommu.api;

/**
 * An invalidation did not complete (an error or a timeout). Whatever it was
 * protecting stays out of use: a domain id is not released until a later
 * invalidation of it completes.
 */
public class InvalidationException extends IommuException {
    private static final long serialVersionUID = 1L;

    public InvalidationException(String message) {
        super(message);
    }

    public InvalidationException(String message, Throwable cause) {
        super(message, cause);
    }
}
