package iommu.vtd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.FormatterLogger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import iommu.api.IommuException;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.UnitRegistration;

/**
 * The VT-d platform of this bundle: at activation it loads the platform (the
 * embedded default, or the file its configuration names) and registers one
 * {@link IommuUnit} service per unit; units from {@code iommu.vtd.unit}
 * configurations join the same registry through {@link #addUnit}. Its own
 * service is private to the bundle (the package is not exported): only
 * {@link VtdUnitConfiguration} uses it.
 */
@Component(immediate = true, configurationPid = VtdPlatform.PID, service = VtdPlatform.class)
@Designate(ocd = VtdPlatform.Config.class)
public class VtdPlatform {

    public static final String PID = "iommu.vtd.platform";
    /** The embedded default platform, a resource beside this class. */
    static final String DEFAULT_RESOURCE = "default-platform.txt";
    static final String DEFAULT_SOURCE = "default platform (iommu/vtd/" + DEFAULT_RESOURCE + ")";

    @ObjectClassDefinition(name = "VT-d platform",
            description = "Where the VT-d units and the PCI topology come from.")
    public @interface Config {
        @AttributeDefinition(name = "Platform",
                description = "Path of an ACPI DMAR binary (/sys/firmware/acpi/tables/DMAR, acpidump -b), a"
                        + " sysfs-shaped directory (/sys of a VT-d host) or a platform file (iommu-platform 1 or 2,"
                        + " see PLATFORM.md of iommu.vtd); empty for the embedded default platform.",
                required = false)
        String path() default "";

        @AttributeDefinition(name = "State directory",
                description = "Directory whose vtd/ folder keeps each unit's table memory (root, context and I/O page"
                        + " tables) in a file, so that the tables outlive a killed process and a unit comes up on"
                        + " them again; the launcher's --state DIR sets it. Empty: tables on the heap only.",
                required = false)
        String stateDirectory() default "";

        @AttributeDefinition(name = "Rebuild tables",
                description = "A unit's table file in the state directory that would be refused (another unit's,"
                        + " another format version, damaged tables) is renamed aside, never deleted, and the unit"
                        + " starts on a new one, which the core fills from its journal (the launcher's"
                        + " --rebuild-tables; set the core's rebuildTables too).",
                required = false)
        boolean rebuildTables() default false;
    }

    private final FormatterLogger logger;
    private final UnitRegistry registry;
    private final BundleContext context;
    private volatile String source;
    private volatile String configuredStateDirectory;
    private volatile String configuredPath;
    private final KeptTables tables;

    @Activate
    public VtdPlatform(BundleContext context, Config config,
            @Reference(service = LoggerFactory.class) FormatterLogger logger) {
        this.logger = logger;
        this.context = context;
        Platform platform = null;
        String path = config.path() == null ? "" : config.path().trim();
        String wanted = path.isEmpty() ? DEFAULT_SOURCE : path;
        try {
            platform = path.isEmpty() ? loadDefault() : PlatformSources.load(Paths.get(path), PciInventory.empty());
        } catch (IllegalArgumentException e) {
            logger.error("VT-d platform not loaded, no unit registered: %s", e.getMessage());
        } catch (IOException e) {
            logger.error("VT-d platform not loaded, no unit registered: cannot read %s (%s): expected a readable"
                    + " DMAR binary, sysfs-shaped directory or platform file", wanted, e);
        }
        this.source = wanted;
        this.configuredPath = path;
        this.registry = new UnitRegistry(PciInventory.empty(), new ServicePublisher(context));
        this.tables = new KeptTables(registry, context, logger);
        this.configuredStateDirectory = trimmed(config.stateDirectory());
        String stateDirectory = configuredStateDirectory.isEmpty() ? tables.remembered() : configuredStateDirectory;
        if (!stateDirectory.isEmpty()) {
            // before any unit exists: each comes up on its table file
            try {
                tables.move(stateDirectory, config.rebuildTables());
            } catch (IommuException e) {
                logger.error("VT-d state directory %s not taken up: %s", stateDirectory, e.getMessage());
            }
        }
        if (platform != null) {
            for (String warning : platform.warnings()) {
                logger.warn("VT-d platform %s: %s", platform.source(), warning);
            }
            try {
                List<VtdUnit> units = registry.admit(platform, "platform " + platform.source(), false, false).units();
                logger.info("VT-d platform %s: %d units, %d PCI devices", platform.source(), units.size(),
                        platform.inventory().devices().size());
            } catch (IllegalArgumentException e) {
                logger.error("VT-d platform %s: no unit registered: %s", platform.source(), e.getMessage());
            }
        }
    }

    /**
     * A new state directory moves every unit's tables there; a new path
     * replaces the platform (refused, and logged, while a device of it is
     * attached).
     */
    @Modified
    void modified(Config config) {
        String wanted = trimmed(config.stateDirectory());
        if (!wanted.equals(configuredStateDirectory)) {
            configuredStateDirectory = wanted;
            try {
                tables.move(wanted, config.rebuildTables());
            } catch (IommuException e) {
                logger.error("VT-d state directory %s not taken up: %s", wanted, e.getMessage());
            }
        }
        String path = trimmed(config.path());
        if (!path.equals(configuredPath)) {
            configuredPath = path;
            try {
                if (path.isEmpty()) {
                    registry.replace(loadDefault(), "platform " + DEFAULT_SOURCE);
                    source = DEFAULT_SOURCE;
                    logger.info("VT-d platform %s: %d units", DEFAULT_SOURCE, registry.units().size());
                } else {
                    replacePlatform(Paths.get(path));
                }
            } catch (IommuException | IllegalArgumentException | IOException e) {
                logger.error("VT-d platform %s not loaded, the units of %s stay: %s",
                        path.isEmpty() ? DEFAULT_SOURCE : path, source, e.getMessage());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registry.removeAll();
        tables.close();
    }

    private static String trimmed(String value) {
        return value == null ? "" : value.trim();
    }

    /**
     * The launcher's {@code --state DIR}: every unit's tables move to files of
     * {@code DIR/vtd} (units re-registered, inheriting what their file holds),
     * and the choice outlives a restart of this bundle; with
     * {@code setAsideRefused} a refused file is set aside and its unit starts afresh.
     *
     * @throws IommuException one line when a unit's file cannot be used, or the directory is another
     *         process's; nothing changed
     */
    DiscoveryDTO keepTablesIn(Path stateDirectory, boolean setAsideRefused) {
        return tables.keepIn(stateDirectory, setAsideRefused);
    }

    DiscoveryDTO keepTablesIn(Path stateDirectory) {
        return keepTablesIn(stateDirectory, false);
    }

    /** Loads the embedded default platform: a platform file and the DMAR binary it names, resources beside this class. */
    static Platform loadDefault() throws IOException {
        try (InputStream in = VtdPlatform.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource iommu/vtd/" + DEFAULT_RESOURCE + " missing from the bundle");
            }
            return PlatformFileParser.parse(DEFAULT_SOURCE, in, RESOURCES);
        }
    }

    /** DMAR binaries named by the default platform file: resources beside it. */
    static final PlatformFileParser.DmarLoader RESOURCES = new PlatformFileParser.DmarLoader() {
        @Override
        public byte[] load(String path) throws IOException {
            try (InputStream in = VtdPlatform.class.getResourceAsStream(path)) {
                if (in == null) {
                    throw new IOException("resource " + name(path) + " missing from the bundle");
                }
                return in.readAllBytes();
            }
        }

        @Override
        public String name(String path) {
            return "iommu/vtd/" + path;
        }
    };

    /**
     * Reads the platform at the path and adds its well-formed units beside
     * the units there are, ids continuing the {@code dmarN} numbering; a DMAR
     * alone resolves its scopes through the PCI topology known now.
     *
     * @throws IommuException one line when nothing could be registered; nothing changed
     */
    DiscoveryDTO discover(Path path) {
        Platform platform = read(path, registry.inventory());
        if (platform.units().isEmpty()) {
            throw new IommuException(path + ": no VT-d unit found: expected at least one well-formed DRHD"
                    + (platform.warnings().isEmpty() ? "" : " (" + platform.warnings().get(0) + ")"));
        }
        UnitRegistry.Admission admission;
        try {
            admission = registry.admit(platform, "discovery " + path, true, true);
        } catch (IllegalArgumentException e) {
            throw new IommuException(e.getMessage(), e);
        }
        List<String> warnings = new ArrayList<>(platform.warnings());
        warnings.addAll(admission.warnings());
        DiscoveryDTO dto = report(path, platform, admission.units(), warnings);
        logger.info("VT-d discovery %s (%s): units %s, %d PCI devices, %d warnings", path, platform.format(),
                dto.units, dto.devices, warnings.size());
        warnings.forEach(w -> logger.warn("VT-d discovery %s: %s", path, w));
        return dto;
    }

    /**
     * Replaces the platform (the units of the platform and of discovery; the
     * configurations' units stay) with the one at the path, validated first.
     *
     * @throws IommuException one line when the path is malformed, a unit being replaced has a device attached,
     *         or a new unit conflicts with a configured one; nothing changed
     */
    DiscoveryDTO replacePlatform(Path path) {
        Platform platform = read(path, PciInventory.empty());
        List<VtdUnit> units;
        try {
            units = registry.replace(platform, "platform " + platform.source());
        } catch (IllegalArgumentException e) {
            throw new IommuException(path + ": " + e.getMessage(), e);
        }
        this.source = path.toString();
        DiscoveryDTO dto = report(path, platform, units, platform.warnings());
        logger.info("VT-d platform %s (%s): %d units, %d PCI devices", platform.source(), platform.format(),
                units.size(), platform.inventory().devices().size());
        platform.warnings().forEach(w -> logger.warn("VT-d platform %s: %s", path, w));
        return dto;
    }

    /**
     * Unregisters a unit of the platform or of discovery.
     *
     * @throws IommuException for an unknown unit, a configured one, or one with a present context entry
     */
    void forget(String unitId) {
        VtdUnit unit = registry.forget(unitId);
        logger.info("VT-d unit %s unregistered (it came from %s)", unit.id(), unit.source());
    }

    private static Platform read(Path path, PciInventory topology) {
        try {
            return PlatformSources.load(path, topology);
        } catch (IllegalArgumentException e) {
            throw new IommuException(e.getMessage(), e);
        } catch (IOException e) {
            throw new IommuException("cannot read " + path + " (" + e + "): expected a readable DMAR binary,"
                    + " sysfs-shaped directory or platform file", e);
        }
    }

    private static DiscoveryDTO report(Path path, Platform platform, List<VtdUnit> units, List<String> warnings) {
        DiscoveryDTO dto = new DiscoveryDTO();
        dto.source = path.toString();
        dto.format = platform.format();
        dto.units = units.stream().map(VtdUnit::id).toList();
        dto.devices = units.stream().mapToInt(u -> u.devices().size()).sum();
        dto.warnings = List.copyOf(warnings);
        return dto;
    }

    /** Where the platform came from (the default platform or the configured path). */
    public String source() {
        return source;
    }

    public PciInventory inventory() {
        return registry.inventory();
    }

    /** Every unit of the bundle, platform file first, then configurations in arrival order. */
    public List<VtdUnit> units() {
        return registry.units();
    }

    /**
     * Adds a unit beside the platform's and registers its service.
     *
     * @throws IllegalArgumentException when it conflicts with a unit there is; nothing changed
     */
    VtdUnit addUnit(UnitDefinition definition, String source) {
        return registry.add(definition, source);
    }

    /** Unregisters a unit added by {@link #addUnit}. */
    boolean removeUnit(VtdUnit unit) {
        return registry.remove(unit);
    }

    UnitRegistry registry() {
        return registry;
    }

    /** Registers each unit as an {@link IommuUnit} service of this bundle. */
    static final class ServicePublisher implements UnitPublisher {
        private final BundleContext context;

        ServicePublisher(BundleContext context) {
            this.context = context;
        }

        @Override
        public Publication publish(VtdUnit unit) {
            return UnitRegistration.register(context, unit, unit.source())::close;
        }
    }

}
