package iommu.vtd;

import java.util.List;
import java.util.Objects;

import iommu.api.PciAddress;

/**
 * A validated platform description: the VT-d units in firmware order, the
 * PCI inventory and the firmware's reserved memory regions. Whatever source
 * it came from (a platform file, an ACPI DMAR binary, a sysfs tree), it is
 * complete and consistent before anything is registered from it.
 *
 * @param source where it came from, for messages (a file name, {@code default platform})
 * @param format what it was read as: {@link #PLATFORM_FILE}, {@link #ACPI_DMAR} or {@link #SYSFS}
 * @param reserved the RMRRs, their scopes resolved against the inventory
 * @param ats the ATSRs and SATCs (or a platform file's {@code atsr} lines), resolved against the inventory
 * @param warnings one line per problem that did not stop the read (a malformed DRHD skipped, an unknown
 *        structure, a scope that names no function of the topology)
 */
public record Platform(String source, String format, List<UnitDefinition> units, PciInventory inventory,
        List<ReservedRegion> reserved, AtsReports ats, List<String> warnings) {

    public static final String PLATFORM_FILE = "platform-file";
    public static final String ACPI_DMAR = "acpi-dmar";
    public static final String SYSFS = "sysfs";

    public Platform {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
        units = List.copyOf(units);
        Objects.requireNonNull(inventory, "inventory");
        reserved = List.copyOf(reserved);
        Objects.requireNonNull(ats, "ats");
        warnings = List.copyOf(warnings);
    }

    /** A platform without ATS reports. */
    public Platform(String source, String format, List<UnitDefinition> units, PciInventory inventory,
            List<ReservedRegion> reserved, List<String> warnings) {
        this(source, format, units, inventory, reserved, AtsReports.NONE, warnings);
    }

    /** A platform file's platform with no reserved memory and no warnings. */
    public Platform(String source, List<UnitDefinition> units, PciInventory inventory) {
        this(source, PLATFORM_FILE, units, inventory, List.of(), List.of());
    }

    /** The same platform, named after another source (a platform file that names a DMAR). */
    public Platform withSource(String newSource) {
        return new Platform(newSource, format, units, inventory, reserved, ats, warnings);
    }

    /** Whether a reserved memory region names the device. */
    public boolean hasReservedMemory(PciAddress device) {
        return reserved.stream().anyMatch(r -> r.covers(device));
    }
}
