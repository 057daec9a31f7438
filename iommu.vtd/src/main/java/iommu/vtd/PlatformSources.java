package iommu.vtd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The three things a platform path may hold, told apart by content, not by
 * name: an ACPI DMAR binary (signature {@code DMAR}), a sysfs-shaped
 * directory ({@link SysfsReader#looksLikeSysfs}), or a platform file (first
 * statement {@code iommu-platform N}).
 */
public final class PlatformSources {

    private static final int SNIFF = 4096;

    private PlatformSources() {
    }

    /** {@link Platform#ACPI_DMAR}, {@link Platform#SYSFS}, {@link Platform#PLATFORM_FILE}, or null for none of them. */
    public static String formatOf(Path path) {
        if (path == null) {
            return null;
        }
        if (Files.isDirectory(path)) {
            return SysfsReader.looksLikeSysfs(path) ? Platform.SYSFS : null;
        }
        if (!Files.isRegularFile(path)) {
            return null;
        }
        byte[] start;
        try (InputStream in = Files.newInputStream(path)) {
            start = in.readNBytes(SNIFF);
        } catch (IOException e) {
            return null;
        }
        if (DmarParser.hasSignature(start)) {
            return Platform.ACPI_DMAR;
        }
        return PlatformFileParser.looksLikePlatformFile(start) ? Platform.PLATFORM_FILE : null;
    }

    /**
     * Reads the platform at the path.
     *
     * @param topology the PCI topology already known, through which a DMAR alone resolves its scopes
     * @throws PlatformFormatException one line naming what is wrong, where, and what was expected
     * @throws IOException when the path cannot be read
     */
    public static Platform load(Path path, PciInventory topology) throws IOException {
        if (!Files.exists(path)) {
            throw new PlatformFormatException(path.toString(), "no such file or directory: expected an ACPI DMAR"
                    + " binary, a sysfs-shaped directory or a platform file");
        }
        String format = formatOf(path);
        if (format == null) {
            throw new PlatformFormatException(path.toString(), Files.isDirectory(path)
                    ? "a directory without " + SysfsReader.IOMMU_CLASS + ", " + SysfsReader.PCI_DEVICES + " or "
                            + SysfsReader.DMAR_TABLE + ": expected a sysfs-shaped directory"
                    : "neither an ACPI DMAR table (signature \"DMAR\") nor a platform file (first statement '"
                            + PlatformFileParser.HEADER + " N'): expected one of them, or a sysfs-shaped directory");
        }
        return switch (format) {
            case Platform.ACPI_DMAR -> DmarUnits.platform(DmarParser.parse(path), topology);
            case Platform.SYSFS -> SysfsReader.read(path);
            default -> PlatformFileParser.parse(path);
        };
    }
}
