package iommu.api.spi;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

import iommu.api.dto.DiscoveryDTO;

/**
 * A vendor bundle's discovery of units from what a real machine has (an ACPI
 * table, a sysfs tree, a platform file), registered as a service with the
 * {@link #VENDOR} property. The units it finds appear as {@link IommuUnit}
 * services.
 */
@ConsumerType
public interface PlatformDiscovery {

    /** Service property: the vendor whose units this discovery registers. */
    String VENDOR = "discovery.vendor";

    /** The vendor name, e.g. {@code vt-d}. */
    String vendor();

    /** Whether the path holds something this discovery reads (by signature or shape, not by name). */
    boolean recognizes(Path path);

    /**
     * Reads the platform at the path and registers its well-formed units; a
     * malformed unit is reported and does not hide the others.
     *
     * @throws iommu.api.IommuException when nothing at the path can be read
     *         (one line: what, where, what was expected); nothing registered
     */
    DiscoveryDTO discover(Path path);

    /**
     * Replaces the platform this vendor loaded at start (its embedded default
     * or the configured one) with the platform at the path, as the launcher's
     * {@code --platform PATH} does: the path is read and validated first; when
     * it is malformed nothing changes.
     *
     * @throws iommu.api.IommuException one line naming what is wrong, where,
     *         and what was expected; or when a unit being replaced still has a
     *         device attached
     */
    default DiscoveryDTO replacePlatform(Path path) {
        throw new iommu.api.IommuException("vendor " + vendor() + " cannot replace its platform");
    }

    /**
     * Keeps this vendor's units' tables (the memory their context and I/O page
     * tables live in) in files of the directory from now on, so that they
     * outlive a killed process, as the launcher's {@code --state DIR} asks.
     * Each unit is registered again: one whose file is there comes up on the
     * tables it holds ({@link IommuUnit#inheritedTables()}), the others start
     * theirs there. A unit's tables move to the directory; the platform writes
     * its assignments again on a unit that came back without them.
     *
     * @return the units now kept in the directory, and warnings; empty when the
     *         vendor keeps its units' tables in memory only (the default)
     * @throws iommu.api.IommuException one line when a unit's file there cannot
     *         be used (another unit's, another format version, damaged tables,
     *         unreadable): nothing changed
     * @since 1.1
     */
    default java.util.Optional<DiscoveryDTO> keepTablesIn(Path directory) {
        return java.util.Optional.empty();
    }

    /**
     * As {@link #keepTablesIn(Path)}; with {@code setAsideRefused}, a unit
     * whose file there would be refused (another unit's, another format
     * version, damaged tables) has the file renamed aside, never deleted, and
     * starts on empty tables there ({@link IommuUnit#tablesSetAside()} says
     * so), for the platform to rebuild them from its journal, as the
     * launcher's {@code --rebuild-tables} asks. The default refuses as
     * {@link #keepTablesIn(Path)} does.
     *
     * @return as {@link #keepTablesIn(Path)}, a warning per file set aside
     * @since 1.3
     */
    default java.util.Optional<DiscoveryDTO> keepTablesIn(Path directory, boolean setAsideRefused) {
        return keepTablesIn(directory);
    }

    /**
     * Unregisters a unit this discovery registered.
     *
     * @throws iommu.api.IommuException for an unknown unit or one with a
     *         present context entry (a device still attached); nothing changed
     */
    void forget(String unitId);
}
