package iommu.vtd;

import java.util.List;
import java.util.Optional;

import iommu.api.PciAddress;

/**
 * A VT-d unit model on its own, outside any platform: one INCLUDE_PCI_ALL
 * unit of segment 0 translating the given endpoints. For the plain unit tests
 * of this module and of others (the core) that need the real model and its
 * fault hooks (a unit whose invalidations complete late or fail, a device
 * that does not answer its device-TLB invalidation); it ships in this
 * module's test jar, never in the bundle. Endpoints may have an ATS
 * capability: on a unit with ECAP.DT and QI they use device-TLBs (they sit
 * on root buses, integrated, which Linux's {@code dmar_ats_supported} lets
 * use ATS without an ATSR).
 */
public final class StandaloneUnit {

    private StandaloneUnit() {
    }

    /** A unit at register base 0xfed90000 with VER 1.0. */
    public static VtdUnit create(String id, long cap, long ecap, List<PciAddress> endpoints) {
        return create(id, 0xfed9_0000L, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints);
    }

    /**
     * @param version the VER register value (major in bits 7:4): 6 or more
     *        has no register-based invalidation
     */
    public static VtdUnit create(String id, long registerBase, long cap, long ecap, int version,
            List<PciAddress> endpoints) {
        return create(id, registerBase, cap, ecap, version, endpoints, null);
    }

    /**
     * A unit at register base 0xfed90000 with VER 1.0 whose tables live in its
     * table file in {@code tablesDirectory}: created there, or inherited when
     * the file holds a previous unit's tables (a process that died). Close it
     * with {@link #close(VtdUnit)} before opening the same file again.
     *
     * @throws IllegalArgumentException when the file is another unit's or damaged
     */
    public static VtdUnit createKept(String id, long cap, long ecap, List<PciAddress> endpoints,
            java.nio.file.Path tablesDirectory) {
        return createKept(id, 0xfed9_0000L, cap, ecap, endpoints, tablesDirectory);
    }

    /** As above at the given register base, which names the unit's table file (one file per base). */
    public static VtdUnit createKept(String id, long registerBase, long cap, long ecap, List<PciAddress> endpoints,
            java.nio.file.Path tablesDirectory) {
        return create(id, registerBase, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints,
                java.util.Objects.requireNonNull(tablesDirectory, "tablesDirectory"));
    }

    /**
     * From now on the unit's hardware processes no invalidation, so every
     * stage its invalidate returns stays incomplete until
     * {@link #releaseInvalidations}; translations still see what the caches hold.
     */
    public static void holdInvalidations(VtdUnit unit) {
        unit.holdInvalidations();
    }

    /** The hardware processes what it held back and stops holding. */
    public static void releaseInvalidations(VtdUnit unit) {
        unit.releaseInvalidations();
    }

    /** The next {@code n} invalidation requests the hardware fetches raise an error (IQE / a failed command). */
    public static void injectInvalidationErrors(VtdUnit unit, int n) {
        unit.injectInvalidationErrors(n);
    }

    /** Batches handed to the hardware whose completion was not seen yet. */
    public static int pendingInvalidationBatches(VtdUnit unit) {
        return unit.pendingInvalidationBatches();
    }

    /**
     * As {@link #createKept(String, long, long, long, List, java.nio.file.Path)}, with
     * bridges in the topology (a PCIe-to-PCI bridge makes the endpoints behind it
     * one IOMMU group, seen as its secondary bus with devfn 00.0).
     */
    public static VtdUnit createKept(String id, long registerBase, long cap, long ecap, List<PciAddress> endpoints,
            List<PciInventory.Bridge> bridges, java.nio.file.Path tablesDirectory) {
        return create(id, registerBase, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints, bridges,
                java.util.Objects.requireNonNull(tablesDirectory, "tablesDirectory"));
    }

    /** As above, its table file's writes going through {@code files} (which fails them as a full disk does). */
    public static VtdUnit createKept(String id, long registerBase, long cap, long ecap, List<PciAddress> endpoints,
            List<PciInventory.Bridge> bridges, java.nio.file.Path tablesDirectory, FaultyFiles files) {
        return create(id, registerBase, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints, bridges,
                java.util.Objects.requireNonNull(tablesDirectory, "tablesDirectory"), files::open);
    }

    /** As above, the endpoints of {@code ats} with an ATS capability. */
    public static VtdUnit createKept(String id, long registerBase, long cap, long ecap, List<PciAddress> endpoints,
            List<PciInventory.Bridge> bridges, java.util.Set<PciAddress> ats, java.nio.file.Path tablesDirectory) {
        return create(id, registerBase, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints, bridges, ats,
                java.util.Objects.requireNonNull(tablesDirectory, "tablesDirectory"), TableFile.Opener.FILES);
    }

    /** A unit at register base 0xfed90000 with VER 1.0, its tables on the heap, the endpoints of {@code ats} with ATS. */
    public static VtdUnit createWithAts(String id, long cap, long ecap, List<PciAddress> endpoints,
            java.util.Set<PciAddress> ats) {
        return create(id, 0xfed9_0000L, cap, ecap, VtdUnit.DEFAULT_VERSION, endpoints, List.of(), ats, null,
                TableFile.Opener.FILES);
    }

    /**
     * From now on the device lets device-TLB invalidation requests time out
     * (the unit raises ITE and the batch fails), or answers them again.
     */
    public static void deviceAnswers(VtdUnit unit, PciAddress device, boolean answers) {
        unit.deviceAnswers(device, answers);
    }

    /** How many translations the device's device-TLB holds. */
    public static int deviceTlbEntries(VtdUnit unit, PciAddress device) {
        return unit.deviceTlbEntries(device);
    }

    /** Closes the unit's table file (what unregistering the unit does). */
    public static void close(VtdUnit unit) {
        unit.close();
    }

    private static VtdUnit create(String id, long registerBase, long cap, long ecap, int version,
            List<PciAddress> endpoints, java.nio.file.Path tablesDirectory) {
        return create(id, registerBase, cap, ecap, version, endpoints, List.of(), tablesDirectory);
    }

    private static VtdUnit create(String id, long registerBase, long cap, long ecap, int version,
            List<PciAddress> endpoints, List<PciInventory.Bridge> bridges, java.nio.file.Path tablesDirectory) {
        return create(id, registerBase, cap, ecap, version, endpoints, bridges, tablesDirectory, TableFile.Opener.FILES);
    }

    private static VtdUnit create(String id, long registerBase, long cap, long ecap, int version,
            List<PciAddress> endpoints, List<PciInventory.Bridge> bridges, java.nio.file.Path tablesDirectory,
            TableFile.Opener opener) {
        return create(id, registerBase, cap, ecap, version, endpoints, bridges, java.util.Set.of(), tablesDirectory,
                opener);
    }

    private static VtdUnit create(String id, long registerBase, long cap, long ecap, int version,
            List<PciAddress> endpoints, List<PciInventory.Bridge> bridges, java.util.Set<PciAddress> ats,
            java.nio.file.Path tablesDirectory, TableFile.Opener opener) {
        PciInventory.Builder builder = PciInventory.builder();
        for (PciInventory.Bridge bridge : bridges) {
            builder.bridge(bridge, "standalone unit " + id);
        }
        for (PciAddress endpoint : endpoints) {
            if (endpoint.segment() != 0) {
                throw new IllegalArgumentException("endpoint " + endpoint + ": expected segment 0");
            }
            builder.endpoint(endpoint, "standalone unit " + id, ats.contains(endpoint) ? 0 : null);
        }
        PciInventory inventory = builder.build();
        UnitDefinition definition = new UnitDefinition(id, 0, registerBase, Capability.decode(cap),
                ExtendedCapability.decode(ecap), true, List.of());
        VtdUnit[] self = new VtdUnit[1];
        UnitDirectory directory = new UnitDirectory() {
            @Override
            public PciInventory inventory() {
                return inventory;
            }

            @Override
            public Optional<VtdUnit> bestClaimant(PciAddress device) {
                return device.segment() == 0 ? Optional.ofNullable(self[0]) : Optional.empty();
            }
        };
        TableFile file = null;
        if (tablesDirectory != null) {
            try {
                file = TableFile.open(tablesDirectory, definition, version, VtdUnit.TABLE_REGION,
                        VtdUnit.TABLE_REGION_PAGES, opener);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        try {
            self[0] = new VtdUnit(definition, "standalone", directory, version, file);
        } catch (RuntimeException e) {
            if (file != null) {
                file.close();
            }
            throw e;
        }
        return self[0];
    }
}
