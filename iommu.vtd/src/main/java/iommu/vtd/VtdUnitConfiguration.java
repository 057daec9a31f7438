package iommu.vtd;

import java.util.Map;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.FormatterLogger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One VT-d unit per {@code iommu.vtd.unit} factory configuration: the unit
 * joins the {@link VtdPlatform}'s registry (and its devices come from the
 * platform's inventory) while the configuration exists, and its service is
 * unregistered when the configuration is deleted. A malformed configuration
 * is one error line in the log and no unit.
 */
@Component(configurationPid = VtdUnitConfiguration.FACTORY_PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = VtdUnitConfiguration.Config.class, factory = true)
public class VtdUnitConfiguration {

    public static final String FACTORY_PID = "iommu.vtd.unit";

    @ObjectClassDefinition(name = "VT-d unit",
            description = "A VT-d DMA-remapping unit added to the platform by configuration.")
    public @interface Config {
        @AttributeDefinition(name = "Unit id", description = "Unique on the platform, e.g. dmar5.")
        String id();

        @AttributeDefinition(name = "PCI segment", description = "0..65535.", required = false)
        int segment() default 0;

        @AttributeDefinition(name = "Register base", description = "Hexadecimal, e.g. 0xfed90000; 4 KiB aligned.")
        String registerBase();

        @AttributeDefinition(name = "CAP", description = "Capability register, hexadecimal, e.g. d2008c40660462.")
        String cap();

        @AttributeDefinition(name = "ECAP", description = "Extended capability register, hexadecimal, e.g. f050da.")
        String ecap();

        @AttributeDefinition(name = "INCLUDE_PCI_ALL",
                description = "Translates every device of its segment no other unit claims.", required = false)
        boolean includePciAll() default false;

        @AttributeDefinition(name = "Device scopes",
                description = "Lines 'endpoint SSSS:BB:DD.F' or 'bridge SSSS:BB:DD.F SS-EE' (bus range in hex).",
                required = false)
        String[] scope() default {};
    }

    private final VtdPlatform platform;
    private final FormatterLogger logger;
    private final VtdUnit unit;

    @Activate
    public VtdUnitConfiguration(Map<String, Object> properties, @Reference VtdPlatform platform,
            @Reference(service = LoggerFactory.class) FormatterLogger logger) {
        this.platform = platform;
        this.logger = logger;
        String pid = String.valueOf(properties.get(Constants.SERVICE_PID));
        VtdUnit added = null;
        try {
            UnitDefinition definition = UnitConfigurations.parse(properties);
            added = platform.addUnit(definition, "configuration " + pid);
            logger.info("VT-d unit %s registered from configuration %s", added.id(), pid);
        } catch (IllegalArgumentException | iommu.api.IommuException e) {
            logger.error("VT-d unit configuration %s rejected, no unit registered: %s", pid, e.getMessage());
        }
        this.unit = added;
    }

    @Deactivate
    void deactivate() {
        if (unit != null && platform.removeUnit(unit)) {
            logger.info("VT-d unit %s unregistered", unit.id());
        }
    }

    /** The unit this configuration registered; null when it was rejected. */
    VtdUnit unit() {
        return unit;
    }
}
