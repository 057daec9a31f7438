package iommu.api;

/** A unit (or, under the global strategy, the shared space) has no free domain id left. */
public class DomainIdsExhaustedException extends IommuException {
    private static final long serialVersionUID = 1L;

    private final String unitId;
    private final int capacity;

    public DomainIdsExhaustedException(String unitId, int capacity, String message) {
        super(message);
        this.unitId = unitId;
        this.capacity = capacity;
    }

    /** The unit that had no free id. */
    public String unitId() {
        return unitId;
    }

    /** How many ids could be handed out there, reserved ones excluded. */
    public int capacity() {
        return capacity;
    }
}
