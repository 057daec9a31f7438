package iommu.vtd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Paths;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.FormatterLogger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import iommu.api.spi.IommuUnit;

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
        @AttributeDefinition(name = "Platform file",
                description = "Path of a platform file (format iommu-platform 1, see PLATFORM.md of iommu.vtd);"
                        + " empty for the embedded default platform.",
                required = false)
        String path() default "";
    }

    private final FormatterLogger logger;
    private final UnitRegistry registry;
    private final String source;

    @Activate
    public VtdPlatform(BundleContext context, Config config,
            @Reference(service = LoggerFactory.class) FormatterLogger logger) {
        this.logger = logger;
        Platform platform = null;
        String path = config.path() == null ? "" : config.path().trim();
        String wanted = path.isEmpty() ? DEFAULT_SOURCE : path;
        try {
            platform = path.isEmpty() ? loadDefault() : PlatformFileParser.parse(Paths.get(path));
        } catch (IllegalArgumentException e) {
            logger.error("VT-d platform not loaded, no unit registered: %s", e.getMessage());
        } catch (IOException e) {
            logger.error("VT-d platform not loaded, no unit registered: cannot read %s (%s): expected a readable"
                    + " platform file", wanted, e);
        }
        this.source = wanted;
        this.registry = new UnitRegistry(platform == null ? PciInventory.empty() : platform.inventory(),
                new ServicePublisher(context));
        if (platform != null) {
            try {
                List<VtdUnit> units = registry.addAll(platform.units(), "platform " + platform.source());
                logger.info("VT-d platform %s: %d units, %d PCI devices", platform.source(), units.size(),
                        platform.inventory().devices().size());
            } catch (IllegalArgumentException e) {
                logger.error("VT-d platform %s: no unit registered: %s", platform.source(), e.getMessage());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registry.removeAll();
    }

    /** Loads the embedded default platform. */
    static Platform loadDefault() throws IOException {
        try (InputStream in = VtdPlatform.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource iommu/vtd/" + DEFAULT_RESOURCE + " missing from the bundle");
            }
            return PlatformFileParser.parse(DEFAULT_SOURCE, in);
        }
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
            Hashtable<String, Object> properties = new Hashtable<>();
            properties.put(IommuUnit.UNIT_ID, unit.id());
            properties.put(IommuUnit.VENDOR, unit.vendor());
            properties.put("unit.segment", unit.segment());
            properties.put("unit.registerBase", String.format("0x%x", unit.registerBase()));
            properties.put("unit.source", unit.source());
            properties.put("service.description", "VT-d unit " + unit);
            ServiceRegistration<IommuUnit> registration = context.registerService(IommuUnit.class, unit, properties);
            return new Publication() {
                private boolean withdrawn;

                @Override
                public synchronized void withdraw() {
                    if (withdrawn) {
                        return;
                    }
                    withdrawn = true;
                    try {
                        registration.unregister();
                    } catch (IllegalStateException alreadyGone) {
                        // the bundle is stopping and the framework took the service back already
                    }
                }
            };
        }
    }

}
