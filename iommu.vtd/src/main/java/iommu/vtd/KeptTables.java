package iommu.vtd;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.log.FormatterLogger;

import iommu.api.IommuException;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.support.StateDirectoryLock;

/**
 * Where the platform's units keep their tables: on the heap, or in the
 * {@code vtd/} folder of a state directory, which is locked while they are
 * there (one writer; the lock is shared with this framework's core) and
 * remembered in the bundle's data area across a restart of the bundle. Not
 * thread-safe: the platform's configuration and the launcher call it in turn.
 */
final class KeptTables {

    /** The folder of a state directory the units' table files go in. */
    static final String FOLDER = "vtd";
    /** The bundle's data file remembering the directory {@link #keepIn} was given, across a restart of the bundle. */
    static final String DATA_FILE = "tables-directory";

    private final UnitRegistry registry;
    private final BundleContext context;
    private final FormatterLogger logger;
    /** The state directory's lock while the units' tables are kept there. */
    private StateDirectoryLock lock;

    KeptTables(UnitRegistry registry, BundleContext context, FormatterLogger logger) {
        this.registry = registry;
        this.context = context;
        this.logger = logger;
    }

    /** The directory {@link #keepIn} was given before this bundle restarted, or "". */
    String remembered() {
        java.io.File file = context.getDataFile(DATA_FILE);
        try {
            return file != null && file.isFile() ? java.nio.file.Files.readString(file.toPath()).trim() : "";
        } catch (IOException e) {
            logger.warn("VT-d: cannot read %s (%s): units keep their tables on the heap", file, e);
            return "";
        }
    }

    /**
     * The units' tables move to the state directory's {@code vtd/}, and the
     * choice is remembered; a warning per file set aside.
     *
     * @throws IommuException as {@link #move}
     */
    DiscoveryDTO keepIn(Path stateDirectory, boolean setAsideRefused) {
        String wanted = stateDirectory.toAbsolutePath().normalize().toString();
        List<VtdUnit> units = move(wanted, setAsideRefused);
        java.io.File file = context.getDataFile(DATA_FILE);
        if (file != null) {
            try {
                java.nio.file.Files.writeString(file.toPath(), wanted);
            } catch (IOException e) {
                logger.warn("VT-d: cannot remember the state directory in %s (%s): a restart of the bundle puts the"
                        + " tables back on the heap", file, e);
            }
        }
        DiscoveryDTO dto = new DiscoveryDTO();
        dto.source = Paths.get(wanted, FOLDER).toString();
        dto.format = "vt-d table files";
        dto.units = units.stream().map(VtdUnit::id).toList();
        dto.devices = units.stream().mapToInt(u -> u.devices().size()).sum();
        dto.warnings = units.stream().filter(u -> u.tablesSetAside().isPresent())
                .map(u -> "unit " + u.id() + ": " + u.tablesSetAside().get()).toList();
        return dto;
    }

    /**
     * The units' tables move to the state directory (locked first, before any
     * file of it is read) or, for "", back to the heap.
     *
     * @throws IommuException one line when the directory is another process's or a unit's file cannot be
     *         used; nothing changed
     */
    List<VtdUnit> move(String stateDirectory, boolean setAsideRefused) {
        Path directory = stateDirectory.isEmpty() ? null
                : Paths.get(stateDirectory, FOLDER).toAbsolutePath().normalize();
        StateDirectoryLock taken = lock;
        if (directory != null && (lock == null || !lock.directory().equals(realPath(stateDirectory)))) {
            taken = StateDirectoryLock.acquire(Paths.get(stateDirectory), owner(), "iommu.vtd");
        }
        List<VtdUnit> units;
        try {
            units = registry.keepTablesIn(directory, setAsideRefused);
        } catch (IllegalArgumentException | IommuException e) {
            if (taken != lock) {
                taken.close();
            }
            throw e instanceof IommuException ie ? ie : new IommuException(e.getMessage(), e);
        }
        keep(directory == null ? null : taken);
        long inherited = units.stream().filter(VtdUnit::inheritedTables).count();
        logger.info("VT-d units keep their tables %s: %d units, %d inherited tables found there",
                directory == null ? "on the heap" : "in " + directory, units.size(), inherited);
        return units;
    }

    /** The units are gone (the bundle stops): the directory is let go. */
    void close() {
        keep(null);
    }

    /** Keeps {@code kept} (null: none) as the state directory's lock, letting any other go. */
    private void keep(StateDirectoryLock kept) {
        if (lock != null && lock != kept) {
            lock.close();
        }
        lock = kept;
    }

    /** Whom the lock is shared with: this framework's components. */
    private String owner() {
        String id = context.getProperty(org.osgi.framework.Constants.FRAMEWORK_UUID);
        return "framework " + (id != null ? id : context);
    }

    private static Path realPath(String directory) {
        try {
            return Paths.get(directory).toRealPath();
        } catch (IOException e) {
            return null; // not there yet: not the one held
        }
    }
}
