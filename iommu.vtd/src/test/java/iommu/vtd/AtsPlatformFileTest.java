package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A platform file's {@code ats} flag and {@code atsr} lines refused when
 * malformed: one line naming the file, the line and what was expected (the
 * whole file is checked before anything is registered, so nothing changes).
 */
class AtsPlatformFileTest {

    static final List<String> BASE = List.of(
            "iommu-platform 1",
            "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050de include-pci-all",
            "bridge   0000:00:1c.0 01-02",
            "bridge   0000:01:00.0 02-02",
            "sriov    0000:02:00.0 totalvfs=8 numvfs=2 offset=128 stride=1 ats",
            "endpoint 0000:00:14.0");

    static List<String> plus(String... lines) {
        List<String> all = new ArrayList<>(BASE);
        all.addAll(List.of(lines));
        return all;
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of(plus("bridge 0000:00:1d.0 03-03 ats"), "ats.txt:7: bridge 0000:00:1d.0: 'ats' on a bridge:"
                        + " expected it only on an 'endpoint' or 'sriov' line (a bridge forwards translation requests,"
                        + " it caches none)"),
                Arguments.of(plus("endpoint 0000:00:15.0 ats ats"), "ats.txt:7: endpoint takes an address and an"
                        + " optional flag: expected 'endpoint SSSS:BB:DD.F [ats]'"),
                Arguments.of(plus("endpoint 0000:00:15.0 atsx"), "ats.txt:7: endpoint takes an address and an"
                        + " optional flag: expected 'endpoint SSSS:BB:DD.F [ats]'"),
                Arguments.of(plus("sriov 0000:00:16.0 totalvfs=1 numvfs=0 offset=1 stride=1 ats ats"),
                        "ats.txt:7: sriov 0000:00:16.0: attribute 'ats' given twice: expected it once"),
                Arguments.of(plus("atsr"), "ats.txt:7: atsr without ports: " + AtsrLines.USAGE),
                Arguments.of(plus("atsr segment=0"), "ats.txt:7: atsr with root ports and segment=: expected"
                        + " 'segment=' only with all-ports (the ports' addresses name their segment)"),
                Arguments.of(plus("atsr all-ports 0000:00:1c.0"), "ats.txt:7: atsr with 'all-ports' and root port"
                        + " 0000:00:1c.0: expected either all-ports or a list of root ports"),
                Arguments.of(plus("atsr all-ports all-ports"), "ats.txt:7: atsr: 'all-ports' given twice: expected"
                        + " it once"),
                Arguments.of(plus("atsr segment=1 0000:00:1c.0"), "ats.txt:7: atsr with root ports and segment=:"
                        + " expected 'segment=' only with all-ports (the ports' addresses name their segment)"),
                Arguments.of(plus("atsr all-ports segment=1 segment=2"), "ats.txt:7: atsr: attribute 'segment'"
                        + " given twice: expected it once"),
                Arguments.of(plus("atsr all-ports segment=1g"), "ats.txt:7: bad segment of atsr '1g': expected a"
                        + " hexadecimal number 0..ffff"),
                Arguments.of(plus("atsr ports=1"), "ats.txt:7: atsr: unknown attribute 'ports=1': " + AtsrLines.USAGE),
                Arguments.of(plus("atsr 0000:00:1g.0"), null),
                Arguments.of(plus("atsr 0000:00:1c.0 0000:00:1c.0"), "ats.txt:7: atsr names root port 0000:00:1c.0"
                        + " twice: expected each once"),
                Arguments.of(plus("atsr 0000:00:1c.0 0001:00:1c.0"), "ats.txt:7: atsr names 0000:00:1c.0 on segment"
                        + " 0000 and 0001:00:1c.0 on segment 0001: expected the root ports of one segment (one atsr"
                        + " line a segment)"),
                Arguments.of(plus("atsr 0000:00:1c.0", "atsr all-ports"), "ats.txt:8: a second atsr for segment 0000"
                        + " (the first at line 7): expected one ATSR a segment"),
                Arguments.of(plus("atsr 0000:00:14.0"), "ats.txt:7: atsr names endpoint 0000:00:14.0 (line 6):"
                        + " expected a root port, a 'bridge' line"),
                Arguments.of(plus("atsr 0000:00:1f.0"), "ats.txt:7: atsr names 0000:00:1f.0, which no line of the"
                        + " file lists: expected a root port, a 'bridge' line"),
                Arguments.of(plus("atsr 0000:01:00.0"), "ats.txt:7: atsr names bridge 0000:01:00.0 02-02 (line 4),"
                        + " which is not a root port: expected a bridge of kind pcie-port on a root bus (no bridge"
                        + " above it)"),
                Arguments.of(plus("bridge 0000:00:1e.0 05-05 kind=pci", "atsr 0000:00:1e.0"), "ats.txt:8: atsr names"
                        + " bridge 0000:00:1e.0 05-05 kind=pci (line 7), which is not a root port: expected a bridge of"
                        + " kind pcie-port on a root bus (no bridge above it)"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void refusedInOneLine(List<String> lines, String message) {
        var thrown = assertThatThrownBy(() -> PlatformFileParser.parse("ats.txt", lines))
                .isInstanceOf(PlatformFormatException.class)
                .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).doesNotContain("\n")
                        .startsWith("ats.txt:"));
        if (message != null) {
            thrown.hasMessage(message);
        }
    }

    @org.junit.jupiter.api.Test
    void anAtsrLineBesideADmarIsRefused() throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ats");
        java.nio.file.Files.write(dir.resolve("t.dat"), DmarBytes.resource("server-two-segments.dat"));
        java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("t.txt"), List.of("iommu-platform 2",
                "dmar t.dat", "bridge 0000:00:1c.0 02-02", "atsr 0000:00:1c.0"));
        assertThatThrownBy(() -> PlatformFileParser.parse(file)).isInstanceOf(PlatformFormatException.class)
                .hasMessage(file + ":4: an 'atsr' line in a file whose units come from the DMAR at line 2: expected"
                        + " the DMAR's ATSRs to name the root ports whose devices use ATS");
    }
}
