package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import iommu.api.PciAddress;

/** Platform files of format 2: a DMAR binary, per-DRHD registers, the PCI topology. */
class PlatformFileV2Test {

    @TempDir
    Path dir;
    Path dat;

    static final List<String> VALID = List.of(
            "iommu-platform 2",
            "dmar tables/lab.dat",
            "drhd 0 cap=c0000020e60262 ecap=f0101a",
            "drhd base=0xfed92000 cap=8d2078c106f0466 ecap=f020df",
            "endpoint 0000:00:02.0",
            "bridge 0000:00:1c.0 02-02",
            "endpoint 0000:02:00.0");

    @BeforeEach
    void copyTheDmar() throws IOException {
        Files.createDirectories(dir.resolve("tables"));
        dat = Files.write(dir.resolve("tables/lab.dat"), DmarBytes.resource("server-two-segments.dat"));
    }

    Platform parse(List<String> lines) throws IOException {
        Path file = Files.write(dir.resolve("lab.txt"), lines);
        return PlatformFileParser.parse(file);
    }

    static List<String> with(int n, String line) {
        List<String> lines = new ArrayList<>(VALID);
        lines.set(n - 1, line);
        return lines;
    }

    static List<String> plus(String... more) {
        List<String> lines = new ArrayList<>(VALID);
        lines.addAll(List.of(more));
        return lines;
    }

    @Test
    void readsTheDmarRelativeToTheFileAndNamesThePlatformAfterTheFile() throws IOException {
        Platform platform = parse(VALID);
        assertThat(platform.source()).isEqualTo(dir.resolve("lab.txt").toString());
        assertThat(platform.format()).isEqualTo(Platform.PLATFORM_FILE);
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1", "dmar2", "dmar3");
        assertThat(platform.units().get(0).cap().raw()).isEqualTo(0xc0000020e60262L);
        assertThat(platform.units().get(2).cap().raw()).isEqualTo(0x8d2078c106f0466L);
        assertThat(platform.units().get(1).cap().raw()).isEqualTo(DmarUnits.DEFAULT_CAP);
        assertThat(platform.units().get(0).scopes()).contains(DeviceScope.endpoint(PciAddress.parse("0000:02:00.0")));
        assertThat(platform.reserved()).hasSize(2);
        assertThat(platform.reserved().get(0).origin()).startsWith(dat.toString() + ": RMRR #0");
    }

    @Test
    void theUnitsOfTheDmarAreWhatTheDefaultPlatformAlwaysHad() throws IOException {
        Platform platform = VtdPlatform.loadDefault();
        assertThat(platform.format()).isEqualTo(Platform.PLATFORM_FILE);
        assertThat(platform.warnings()).isEmpty();
        assertThat(platform.reserved()).isEmpty();
        assertThat(platform.units()).extracting(UnitDefinition::includePciAll)
                .containsExactly(false, false, false, false, true);
        assertThat(platform.units().get(0).scopes()).containsExactly(
                DeviceScope.bridge(PciAddress.parse("0000:17:00.0"), 0x18, 0x18),
                DeviceScope.bridge(PciAddress.parse("0000:17:02.0"), 0x19, 0x19));
        assertThat(platform.units().get(2).scopes()).containsExactly(
                DeviceScope.bridge(PciAddress.parse("0000:85:00.0"), 0x86, 0x87));
        assertThat(platform.units()).allSatisfy(u -> assertThat(u.cap().raw()).isEqualTo(0x8d2078c106f0462L));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("dmar in format 1", with(1, "iommu-platform 1"),
                        "lab.txt:2: 'dmar' needs format 2: expected 'iommu-platform 2' as the header"),
                Arguments.of("drhd before dmar", List.of("iommu-platform 2", "drhd 0 cap=1 ecap=2"),
                        "lab.txt:2: 'drhd' before any 'dmar' line: expected 'dmar PATH' first; drhd lines give the"
                                + " registers of its DRHDs"),
                Arguments.of("second dmar", plus("dmar tables/lab.dat"),
                        "lab.txt:8: a second 'dmar' line (the first at line 2): expected one DMAR per platform"),
                Arguments.of("dmar without path", with(2, "dmar"),
                        "lab.txt:2: dmar takes one argument: expected 'dmar PATH' (relative to this file, no spaces)"),
                Arguments.of("unit after dmar", plus("unit dmar9 base=0xfed99000 cap=d2008c40660462 ecap=f050da"),
                        "lab.txt:8: a 'unit' line in a file whose units come from the DMAR at line 2: expected"
                                + " either 'unit' lines or one 'dmar' line"),
                Arguments.of("dmar after unit", List.of("iommu-platform 2",
                        "unit dmar9 base=0xfed99000 cap=d2008c40660462 ecap=f050da", "dmar tables/lab.dat"),
                        "lab.txt:3: a 'dmar' line after 'unit' lines (unit dmar9): expected either 'unit' lines or"
                                + " one 'dmar' line"),
                Arguments.of("DRHD index beyond the table", with(3, "drhd 4 cap=c0000020e60262 ecap=f0101a"),
                        "lab.txt:3: drhd 4: DMAR has no well-formed DRHD #4: expected one of [#0, #1, #2, #3]"),
                Arguments.of("register base of no DRHD", with(3, "drhd base=0xfed99000 cap=c0000020e60262 ecap=f0101a"),
                        "lab.txt:3: drhd base=0xfed99000: no DRHD of DMAR has that register base: expected one of"
                                + " [0xfed90000, 0xfed91000, 0xfed92000, 0xfed93000]"),
                Arguments.of("one DRHD twice", with(4, "drhd base=0xfed90000 cap=c0000020e60262 ecap=f0101a"),
                        "lab.txt:4: DRHD #0 at offset 0x30 given twice (line 3): expected one drhd line per DRHD"),
                Arguments.of("drhd without ecap", with(3, "drhd 0 cap=c0000020e60262"),
                        "lab.txt:3: drhd 0 lacks ecap=: expected 'drhd INDEX cap=HEX ecap=HEX' or"
                                + " 'drhd base=0xADDR cap=HEX ecap=HEX'"),
                Arguments.of("drhd with a reserved ND", with(3, "drhd 0 cap=d2008c40660467 ecap=f0101a"),
                        "lab.txt:3: CAP 0xd2008c40660467 has ND=7, a reserved value: expected ND 0..6"),
                Arguments.of("drhd with an unknown attribute", with(3, "drhd 0 cap=1 ecap=2 nd=2"),
                        "lab.txt:3: drhd 0: unknown attribute 'nd=2': expected one of [cap=, ecap=]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesMalformedLinesWithFileLineAndExpectation(String what, List<String> lines, String message) {
        // messages name the DMAR by its resolved path; shorten both paths for the comparison
        assertThatThrownBy(() -> parse(lines))
                .isInstanceOf(PlatformFormatException.class)
                .satisfies(e -> assertThat(e.getMessage().replace(dir.resolve("lab.txt").toString(), "lab.txt")
                        .replace(dat.toString(), "DMAR").replace("DMAR DMAR", "DMAR"))
                        .isEqualTo(message));
    }

    @Test
    void aMissingDmarIsAnErrorAtItsLine() {
        assertThatThrownBy(() -> parse(with(2, "dmar tables/nowhere.dat")))
                .hasMessageStartingWith(dir.resolve("lab.txt") + ":2: cannot read DMAR "
                        + dir.resolve("tables/nowhere.dat"))
                .hasMessageEndingWith(": expected a readable ACPI DMAR binary");
    }

    @Test
    void aMalformedDmarIsAnErrorAtItsLineNamingTheOffset() throws IOException {
        Files.write(dat, DmarBytes.with(DmarBytes.resource("server-two-segments.dat"), 0x5e, 2, 0));
        assertThatThrownBy(() -> parse(VALID))
                .hasMessage(dir.resolve("lab.txt") + ":2: DMAR " + dat + ": DRHD #1 at offset 0x5c: length 0 at"
                        + " offset 0x5e: expected at least 4 (the type and length fields); the structures after it"
                        + " cannot be found");
    }

    @Test
    void textWithoutAFolderCannotNameADmar() {
        assertThatThrownBy(() -> PlatformFileParser.parse("stdin", VALID))
                .hasMessage("stdin:2: cannot read DMAR tables/lab.dat (no folder to resolve it against (the platform"
                        + " was not read from a file)): expected a readable ACPI DMAR binary");
    }

    @Test
    void theTopologyIsCheckedAsInFormat1() {
        assertThatThrownBy(() -> parse(plus("endpoint 0000:02:00.0")))
                .hasMessageEndingWith(":8: endpoint 0000:02:00.0 is already present as endpoint 0000:02:00.0 (line 7):"
                        + " expected each PCI function once");
    }
}
