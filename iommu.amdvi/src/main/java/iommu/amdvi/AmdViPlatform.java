package iommu.amdvi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.FormatterLogger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.UnitRegistration;
import iommu.api.spi.PlatformDiscovery;

/**
 * AMD-Vi discovery: reads ACPI IVRS tables and registers one
 * {@link IommuUnit} service per IOMMU ({@code unit.id=ivhdN},
 * {@code unit.vendor=amd-vi}). There is no default platform: units appear
 * when an IVRS is discovered, or at activation from the file the
 * configuration {@value #PID} names in {@code path}.
 */
@Component(immediate = true, configurationPid = AmdViPlatform.PID, service = PlatformDiscovery.class,
        property = PlatformDiscovery.VENDOR + "=" + AmdViUnit.VENDOR_NAME)
@Designate(ocd = AmdViPlatform.Config.class)
public class AmdViPlatform implements PlatformDiscovery {

    public static final String PID = "iommu.amdvi.platform";

    @ObjectClassDefinition(name = "AMD-Vi platform",
            description = "An ACPI IVRS table whose IOMMUs to register at start.")
    public @interface Config {
        @AttributeDefinition(name = "IVRS table",
                description = "Path of an IVRS table as 'acpidump -b' writes it (ivrs.dat) or iasl compiles it;"
                        + " empty for none.", required = false)
        String path() default "";
    }

    private final FormatterLogger logger;
    private final UnitRegistry registry;

    @Activate
    public AmdViPlatform(BundleContext context, Config config,
            @Reference(service = LoggerFactory.class) FormatterLogger logger) {
        this(new ServicePublisher(context), config, logger);
    }

    AmdViPlatform(UnitRegistry.Publisher publisher, Config config, FormatterLogger logger) {
        this.logger = logger;
        this.registry = new UnitRegistry(publisher);
        String path = config.path() == null ? "" : config.path().trim();
        if (!path.isEmpty()) {
            try {
                DiscoveryDTO dto = discover(Paths.get(path));
                logger.info("AMD-Vi platform %s: %d units, %d device ids", path, dto.units.size(), dto.devices);
            } catch (IommuException e) {
                logger.error("AMD-Vi platform not loaded, no unit registered: %s", e.getMessage());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registry.removeAll();
    }

    @Override
    public String vendor() {
        return AmdViUnit.VENDOR_NAME;
    }

    /** A regular file that starts with the IVRS signature. */
    @Override
    public boolean recognizes(Path path) {
        if (path == null || !Files.isRegularFile(path)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(path)) {
            return IvrsParser.hasSignature(in.readNBytes(4));
        } catch (IOException e) {
            return false;
        }
    }

    private IvrsPlatform read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new IommuException("IVRS " + path + ": cannot read it (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "): expected a readable IVRS table as acpidump -b writes it");
        }
        IvrsPlatform platform;
        try {
            platform = IvrsPlatform.parse(path.toString(), bytes);
        } catch (IvrsFormatException e) {
            throw new IommuException(e.getMessage());
        }
        if (platform.units().isEmpty()) {
            throw new IommuException(platform.warnings().isEmpty()
                    ? "IVRS " + path + ": no IVHD block: expected at least one IOMMU (IVHD type 10h, 11h or 40h)"
                    : platform.warnings().get(0) + (platform.warnings().size() > 1
                            ? " (and " + (platform.warnings().size() - 1) + " more problems)" : ""));
        }
        return platform;
    }

    private DiscoveryDTO register(Path path, IvrsPlatform platform) {
        List<AmdViUnit> units;
        try {
            units = registry.addAll(platform.units(), path.toString());
        } catch (IllegalArgumentException e) {
            throw new IommuException(e.getMessage());
        }
        DiscoveryDTO dto = new DiscoveryDTO();
        dto.source = path.toString();
        dto.format = IvrsPlatform.FORMAT;
        dto.units = units.stream().map(AmdViUnit::id).toList();
        dto.devices = units.stream().mapToInt(u -> u.devices().size()).sum();
        dto.warnings = new ArrayList<>(platform.warnings());
        for (String w : dto.warnings) {
            logger.warn("%s", w);
        }
        return dto;
    }

    /**
     * Reads the IVRS table at the path and registers its IOMMUs beside the
     * units there are.
     *
     * @throws IommuException when the table cannot be read, is malformed as a
     *         whole, has no well-formed IVHD, or names an IOMMU already
     *         registered; nothing registered
     */
    @Override
    public DiscoveryDTO discover(Path path) {
        return register(path, read(path));
    }

    /** Reads and checks the table first, then replaces every AMD-Vi unit of this bundle with its units. */
    @Override
    public DiscoveryDTO replacePlatform(Path path) {
        IvrsPlatform platform = read(path);
        synchronized (registry) {
            for (AmdViUnit unit : registry.units()) {
                refuseIfAttached(unit);
            }
            registry.removeAll();
            return register(path, platform);
        }
    }

    @Override
    public void forget(String unitId) {
        synchronized (registry) {
            AmdViUnit unit = registry.unit(unitId).orElseThrow(() -> new IommuException("no AMD-Vi unit '" + unitId
                    + "': expected one of " + registry.units().stream().map(AmdViUnit::id).toList()));
            refuseIfAttached(unit);
            registry.remove(unit);
        }
    }

    private static void refuseIfAttached(AmdViUnit unit) {
        Map<PciAddress, GuestId> attached = unit.attachedDevices();
        if (!attached.isEmpty()) {
            Map.Entry<PciAddress, GuestId> first = attached.entrySet().iterator().next();
            throw new IommuException(String.format("unit %s still translates %d attached devices (%s of guest %s):"
                    + " detach them first", unit.id(), attached.size(), first.getKey(), first.getValue()));
        }
    }

    /** The units of this bundle, in registration order. */
    public List<AmdViUnit> units() {
        return registry.units();
    }

    UnitRegistry registry() {
        return registry;
    }

    /** Registers each unit as an {@link IommuUnit} service. */
    static final class ServicePublisher implements UnitRegistry.Publisher {
        private final BundleContext context;

        ServicePublisher(BundleContext context) {
            this.context = context;
        }

        @Override
        public Publication publish(AmdViUnit unit) {
            return UnitRegistration.register(context, unit, unit.source())::close;
        }
    }
}
