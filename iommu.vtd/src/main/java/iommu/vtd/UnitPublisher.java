package iommu.vtd;

/**
 * Makes a unit visible to the rest of the platform: the OSGi implementation
 * registers it as an {@code IommuUnit} service, tests use {@link #NONE}.
 */
interface UnitPublisher {

    /** One published unit. */
    interface Publication {
        /** Takes the unit back; a second call does nothing. */
        void withdraw();
    }

    Publication publish(VtdUnit unit);

    /** Publishes nowhere. */
    UnitPublisher NONE = unit -> () -> {
    };
}
