package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the VT-d parsers: whatever the input, a
 * parser returns a result or throws its own clear error, a
 * {@link PlatformFormatException} (of which {@link DmarFormatException} is one)
 * with a one-line message; nothing else escapes.
 *
 * <p>{@code mvn -B verify} runs the regression mode: each method once per seed
 * in {@code src/test/resources/iommu/vtd/ParsersJazzerTestInputs/METHOD/}, in
 * under a second of inputs. {@code JAZZER_FUZZ=1} fuzzes one method for
 * {@code maxDuration} (README.md, "Guarantees"); a crashing input found then
 * goes into that folder, and stays there as a regression seed once fixed.
 */
class ParsersJazzerTest {

    static void clearError(PlatformFormatException e) {
        assertThat(e.getMessage()).isNotBlank().doesNotContain("\n").doesNotContain("\r");
    }

    static void dmarParsesOrRefuses(byte[] bytes) {
        try {
            DmarTable table = DmarParser.parse("fuzz.dat", bytes);
            Platform platform = DmarUnits.platform(table, PciInventory.empty());
            assertThat(platform.units()).hasSizeLessThanOrEqualTo(table.drhds().size());
            assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).doesNotContain("\n"));
        } catch (DmarFormatException e) {
            clearError(e);
            assertThat(e.getMessage()).startsWith("fuzz.dat: ");
        }
    }

    /**
     * The raw bytes, then the same bytes with the length field and checksum made
     * right, so that the mutations reach the structures behind the header.
     */
    @FuzzTest(maxDuration = "10m")
    void dmar(byte[] bytes) {
        dmarParsesOrRefuses(bytes);
        if (bytes.length >= DmarParser.HEADER_LENGTH) {
            byte[] b = Arrays.copyOf(bytes, bytes.length);
            b[4] = (byte) b.length;
            b[5] = (byte) (b.length >>> 8);
            b[6] = (byte) (b.length >>> 16);
            b[7] = (byte) (b.length >>> 24);
            dmarParsesOrRefuses(DmarBytes.checksummed(b));
        }
    }

    /** A platform file; its {@code dmar} lines read the module's two DMAR tables, any other name fails to read. */
    @FuzzTest(maxDuration = "10m")
    void platformFile(byte[] bytes) throws IOException {
        PlatformFileParser.DmarLoader loader = path -> switch (path) {
            case "server-two-segments.dat", "client-satc.dat" -> DmarBytes.resource(path);
            default -> throw new IOException("no such file");
        };
        try {
            Platform platform = PlatformFileParser.parse("fuzz.txt", new ByteArrayInputStream(bytes), loader);
            assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).doesNotContain("\n"));
        } catch (PlatformFormatException e) {
            clearError(e);
        }
    }

    static final String[] SYSFS_FILES = {
        "class/iommu/dmar0/intel-iommu/address",
        "class/iommu/dmar0/intel-iommu/cap",
        "class/iommu/dmar0/intel-iommu/ecap",
        "class/iommu/dmar0/intel-iommu/version",
        "bus/pci/devices/0000:00:1c.0/secondary_bus_number",
        "bus/pci/devices/0000:00:1c.0/subordinate_bus_number",
        "bus/pci/devices/0000:00:1c.0/class",
        "bus/pci/devices/0000:01:00.0/sriov_totalvfs",
        "bus/pci/devices/0000:01:00.0/sriov_numvfs",
        "bus/pci/devices/0000:01:00.0/sriov_offset",
        "bus/pci/devices/0000:01:00.0/sriov_stride",
        "bus/pci/devices/0000:01:00.0/class",
        "bus/pci/devices/0000:00:1c.0/config",
    };

    /**
     * A sysfs tree of one unit, a root port and a NIC with SR-IOV: the input,
     * split at NUL bytes, gives the contents of {@link #SYSFS_FILES} in order; a
     * missing part leaves its file out.
     */
    @FuzzTest(maxDuration = "10m")
    void sysfs(byte[] bytes) throws IOException {
        Path sys = Files.createTempDirectory("sysfs-fuzz");
        try {
            Files.createDirectories(sys.resolve("bus/pci/devices/0000:00:1c.0"));
            Files.createDirectories(sys.resolve("bus/pci/devices/0000:01:00.0"));
            Files.createDirectories(sys.resolve("class/iommu/dmar0/intel-iommu"));
            int start = 0;
            for (int i = 0; i < SYSFS_FILES.length && start <= bytes.length; i++) {
                int end = start;
                while (end < bytes.length && bytes[end] != 0) {
                    end++;
                }
                Files.write(sys.resolve(SYSFS_FILES[i]), Arrays.copyOfRange(bytes, start, end));
                start = end + 1;
            }
            try {
                Platform platform = SysfsReader.read(sys);
                assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).doesNotContain("\n"));
            } catch (PlatformFormatException e) {
                clearError(e);
            }
        } finally {
            try (Stream<Path> walk = Files.walk(sys)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }
}
