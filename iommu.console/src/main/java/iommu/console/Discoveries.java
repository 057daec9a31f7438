package iommu.console;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.apache.felix.service.command.CommandSession;

import iommu.api.IommuException;
import iommu.api.Quoted;
import iommu.api.spi.PlatformDiscovery;

/** Which platform discovery reads a path ({@code discover}, the launcher's {@code --platform}). */
final class Discoveries {

    /** How much of a path an error shows: more than of other input, since the end of a path says most. */
    static final int PATH_SHOWN = 256;

    /** What {@code discover} and {@code --platform} accept, for the error when nothing recognizes a path. */
    static final String ACCEPTED_FORMATS = "an ACPI DMAR table (binary, signature 'DMAR'), a sysfs-shaped directory"
            + " (class/iommu/dmar*/intel-iommu/...) or a platform file (first line 'iommu-platform 1')";

    /** No discovery recognizes a path: the launcher exits 2 for it. */
    static final class UnrecognizedPlatformException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnrecognizedPlatformException(String message) {
            super(message);
        }
    }

    private Discoveries() {
    }

    /** The discovery that reads the path: the first (highest ranking) of {@code all} that recognizes it. */
    static PlatformDiscovery recognizing(List<PlatformDiscovery> all, Path p) {
        if (!Files.exists(p)) {
            throw new IllegalArgumentException(Quoted.of(p.toString(), PATH_SHOWN) + " not found: expected "
                    + ACCEPTED_FORMATS);
        }
        if (all.isEmpty()) {
            throw new IommuException("no platform discovery service is present: expected a vendor bundle (iommu.vtd)"
                    + " to register PlatformDiscovery");
        }
        for (PlatformDiscovery d : all) {
            if (d.recognizes(p)) {
                return d;
            }
        }
        throw new UnrecognizedPlatformException(Quoted.of(p.toString(), PATH_SHOWN)
                + " is not a platform any discovery reads ("
                + String.join(", ", all.stream().map(PlatformDiscovery::vendor).toList()) + "): expected "
                + ACCEPTED_FORMATS);
    }

    /** The path typed, relative to the session's directory. */
    static Path resolve(CommandSession session, String path) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("missing path: expected " + ACCEPTED_FORMATS);
        }
        Path p;
        try {
            p = Paths.get(path.trim());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("malformed path " + Quoted.of(path, PATH_SHOWN) + ": " + e.getReason()
                    + ": expected " + ACCEPTED_FORMATS);
        }
        if (!p.isAbsolute() && session != null) {
            Path dir = session.currentDir();
            if (dir != null) {
                p = dir.resolve(p);
            }
        }
        return p.normalize();
    }
}
