package iommu.api;

/**
 * The configuration of the platform's core (the bundle providing
 * {@link DeviceAssignment}), for clients that write it through Config Admin:
 * its PID and property names, in one place instead of literals in every
 * bundle that configures it.
 */
public final class CoreConfiguration {

    /** The core's configuration PID. */
    public static final String PID = "iommu.core";

    /** Name of the allocation strategy to bind: the {@code name} property of an AllocationStrategy service. */
    public static final String STRATEGY = "strategy";

    /** How long an operation waits for another one or a strategy swap (milliseconds). */
    public static final String OPERATION_WAIT_MILLIS = "operationWaitMillis";

    /** Directory of the journal that keeps assignments and mappings; empty keeps state in memory. */
    public static final String STATE_DIRECTORY = "stateDirectory";

    /**
     * The host's own domain on each unit: {@code linux} (DID 1), {@code allocated}
     * (the lowest free id of each unit) or {@code none} (no host domain).
     *
     * @since 1.2
     */
    public static final String HOST_DOMAIN = "hostDomain";

    /**
     * Where detach puts a guest's devices: {@code none} (back to the host
     * domain) or {@code basic} (quarantine: no entry, DMA faults, until
     * released).
     *
     * @since 1.2
     */
    public static final String QUARANTINE = "quarantine";

    /**
     * Whether the units' tables are rebuilt from the journal of the state
     * directory (a boolean): the journal must be there and whole, and where
     * a unit's kept tables differ from it the journal wins.
     *
     * @since 1.2
     */
    public static final String REBUILD_TABLES = "rebuildTables";

    private CoreConfiguration() {
    }
}
