package iommu.vtd;

import java.nio.file.Path;
import java.util.Objects;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import iommu.api.IommuException;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.PlatformDiscovery;

/**
 * VT-d discovery at runtime: reads an ACPI DMAR binary, a sysfs-shaped
 * directory or a platform file and registers the units it finds beside those
 * of the platform ({@link VtdPlatform}, whose registry it shares, so that
 * best-claim device resolution spans all of them).
 */
@Component(service = PlatformDiscovery.class, property = PlatformDiscovery.VENDOR + "=" + VtdUnit.VENDOR_NAME)
public class VtdDiscovery implements PlatformDiscovery {

    private final VtdPlatform platform;

    @Activate
    public VtdDiscovery(@Reference(name = "platform") VtdPlatform platform) {
        this.platform = platform;
    }

    @Override
    public String vendor() {
        return VtdUnit.VENDOR_NAME;
    }

    /** A DMAR signature, a sysfs-shaped directory, or a platform-file first statement. */
    @Override
    public boolean recognizes(Path path) {
        return PlatformSources.formatOf(path) != null;
    }

    @Override
    public DiscoveryDTO discover(Path path) {
        return platform.discover(Objects.requireNonNull(path, "path"));
    }

    @Override
    public DiscoveryDTO replacePlatform(Path path) {
        return platform.replacePlatform(Objects.requireNonNull(path, "path"));
    }

    @Override
    public java.util.Optional<DiscoveryDTO> keepTablesIn(Path directory) {
        return keepTablesIn(directory, false);
    }

    @Override
    public java.util.Optional<DiscoveryDTO> keepTablesIn(Path directory, boolean setAsideRefused) {
        return java.util.Optional.of(platform.keepTablesIn(Objects.requireNonNull(directory, "directory"),
                setAsideRefused));
    }

    @Override
    public void forget(String unitId) {
        if (unitId == null || unitId.isBlank()) {
            throw new IommuException("missing unit id: expected the id of a VT-d unit, e.g. dmar5");
        }
        platform.forget(unitId.trim());
    }
}
