package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

class PlatformFileParserTest {

    /** A valid file; the malformed cases each change or add one line. */
    static final List<String> VALID = List.of(
            "iommu-platform 1                       # line 1",
            "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050da",
            "    scope endpoint 0000:00:02.0       # integrated graphics",
            "unit dmar1 base=0xfed91000 cap=d2008c40660462 ecap=f050da include-pci-all",
            "",
            "endpoint 0000:00:02.0",
            "endpoint 0000:00:14.0",
            "bridge   0000:00:1c.0 01-01",
            "sriov    0000:01:00.0 totalvfs=64 numvfs=8 offset=128 stride=1");

    static Platform parse(List<String> lines) {
        return PlatformFileParser.parse("t.txt", lines);
    }

    /** VALID with line {@code n} (1-based) replaced. */
    static List<String> with(int n, String line) {
        List<String> lines = new ArrayList<>(VALID);
        lines.set(n - 1, line);
        return lines;
    }

    /** VALID with lines added at the end. */
    static List<String> plus(String... more) {
        List<String> lines = new ArrayList<>(VALID);
        lines.addAll(List.of(more));
        return lines;
    }

    @Test
    void readsBridgeKindsForPciForEachDmaAlias() {
        Platform platform = parse(plus("bridge 0000:00:1d.0 02-03",
                "bridge 0000:02:00.0 03-03 kind=pcie-to-pci",
                "bridge 0000:00:1e.0 04-04 kind=pci",
                "bridge 0000:00:1b.0 05-05 kind=pcie-port"));
        PciInventory pci = platform.inventory();
        assertThat(pci.bridge(PciAddress.parse("0000:00:1c.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1d.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
        assertThat(pci.bridge(PciAddress.parse("0000:02:00.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_TO_PCI);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1e.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCI);
        assertThat(pci.bridge(PciAddress.parse("0000:00:1b.0")).orElseThrow().kind())
                .isEqualTo(PciInventory.BridgeKind.PCIE_PORT);
    }

    @Test
    void parsesUnitsScopesAndTopology() {
        Platform platform = parse(VALID);
        assertThat(platform.source()).isEqualTo("t.txt");
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1");
        UnitDefinition dmar0 = platform.units().get(0);
        assertThat(dmar0.segment()).isZero();
        assertThat(dmar0.registerBase()).isEqualTo(0xfed90000L);
        assertThat(dmar0.cap().raw()).isEqualTo(0xd2008c40660462L);
        assertThat(dmar0.ecap().raw()).isEqualTo(0xf050daL);
        assertThat(dmar0.includePciAll()).isFalse();
        assertThat(dmar0.scopes()).containsExactly(DeviceScope.endpoint(PciAddress.parse("0000:00:02.0")));
        assertThat(platform.units().get(1).includePciAll()).isTrue();
        assertThat(platform.units().get(1).scopes()).isEmpty();

        PciInventory inventory = platform.inventory();
        assertThat(inventory.devices()).hasSize(2 + 1 + 8);
        assertThat(inventory.bridges()).containsExactly(
                new PciInventory.Bridge(PciAddress.parse("0000:00:1c.0"), 1, 1));
        assertThat(inventory.virtualFunctions()).first().isEqualTo(PciAddress.parse("0000:01:10.0"));
        assertThat(dmar0.scopeOf(PciAddress.parse("0000:00:02.0"))).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(platform.units().get(1).scopeOf(PciAddress.parse("0000:01:10.3"))).isEqualTo(ScopeMatch.SEGMENT);
    }

    @Test
    void acceptsSegmentsHexPrefixesAndBridgeScopes() {
        Platform platform = parse(List.of(
                "iommu-platform 1",
                "unit u-1 segment=0x1 base=0xC0000000 cap=0x8D2078C106F0462 ecap=0XF020DF",
                "  scope bridge 0001:00:01.0 02-03",
                "bridge 0001:00:01.0 02-03",
                "sriov 0001:02:00.0 totalvfs=0x10 numvfs=16 offset=0x80 stride=2"));
        UnitDefinition unit = platform.units().get(0);
        assertThat(unit.segment()).isEqualTo(1);
        assertThat(unit.domainIdCount()).isEqualTo(256);
        assertThat(unit.scopeOf(PciAddress.parse("0001:03:00.0"))).isEqualTo(ScopeMatch.BRIDGE);
        assertThat(unit.scopeOf(PciAddress.parse("0000:03:00.0"))).isEqualTo(ScopeMatch.NONE);
        assertThat(platform.inventory().devices()).hasSize(17);
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("no header", with(1, "# nothing"),
                        "t.txt:2: 'unit' before the header: expected the first statement to be 'iommu-platform 2'"),
                Arguments.of("unsupported version", with(1, "iommu-platform 3"),
                        "t.txt:1: unsupported format 'iommu-platform 3': expected 'iommu-platform 1' or 'iommu-platform 2'"),
                Arguments.of("second header", plus("iommu-platform 1"),
                        "t.txt:10: second header: expected 'iommu-platform' once, as the first statement"),
                Arguments.of("unknown keyword", with(7, "device 0000:00:14.0"),
                        "t.txt:7: unknown keyword 'device': expected 'unit', 'scope', 'dmar', 'drhd', 'endpoint', 'bridge', 'sriov'"
                                + " or 'atsr'"),
                Arguments.of("duplicate unit id",
                        with(4, "unit dmar0 base=0xfed91000 cap=d2008c40660462 ecap=f050da include-pci-all"),
                        "t.txt:4: duplicate unit id dmar0: expected each unit id once (unit dmar0 at line 2)"),
                Arguments.of("duplicate register base",
                        with(4, "unit dmar1 base=0xfed90000 cap=d2008c40660462 ecap=f050da include-pci-all"),
                        "t.txt:4: unit dmar1 has the register base 0xfed90000 of unit dmar0:"
                                + " expected distinct register bases (unit dmar0 at line 2)"),
                Arguments.of("bad CAP hex", with(2, "unit dmar0 base=0xfed90000 cap=d2008c4066046z ecap=f050da"),
                        "t.txt:2: bad CAP of unit dmar0 'd2008c4066046z':"
                                + " expected a hexadecimal number of 1 to 16 digits, 0x optional"),
                Arguments.of("reserved ND", with(2, "unit dmar0 base=0xfed90000 cap=d2008c40660467 ecap=f050da"),
                        "t.txt:2: CAP 0xd2008c40660467 has ND=7, a reserved value: expected ND 0..6"),
                Arguments.of("unaligned register base",
                        with(2, "unit dmar0 base=0xfed90010 cap=d2008c40660462 ecap=f050da"),
                        "t.txt:2: unit dmar0: register base 0xfed90010 invalid: expected a nonzero 4 KiB-aligned address"),
                Arguments.of("missing attribute", with(2, "unit dmar0 base=0xfed90000 cap=d2008c40660462"),
                        "t.txt:2: unit dmar0 lacks ecap=: expected 'unit dmar0 base=0x... cap=... ecap=..."
                                + " [segment=S] [include-pci-all]'"),
                Arguments.of("unknown attribute",
                        with(2, "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050da colour=red"),
                        "t.txt:2: unit dmar0: unknown attribute 'colour=red':"
                                + " expected one of [base=, cap=, ecap=, segment=, include-pci-all]"),
                Arguments.of("repeated attribute",
                        with(2, "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050da base=0xfed92000"),
                        "t.txt:2: unit dmar0: attribute 'base' given twice: expected it once"),
                Arguments.of("segment out of range",
                        with(2, "unit dmar0 segment=10000 base=0xfed90000 cap=d2008c40660462 ecap=f050da"),
                        "t.txt:2: segment of unit dmar0 0x10000 out of range: expected 0..0xffff"),
                Arguments.of("two include-pci-all units",
                        with(2, "unit dmar0 base=0xfed90000 cap=d2008c40660462 ecap=f050da include-pci-all"),
                        "t.txt:4: unit dmar1 is a second INCLUDE_PCI_ALL unit on segment 0000, after dmar0:"
                                + " expected at most one per segment (unit dmar0 at line 2)"),
                Arguments.of("scope before any unit", List.of("iommu-platform 1", "scope endpoint 0000:00:02.0"),
                        "t.txt:2: scope before any unit: expected a 'unit' line first;"
                                + " scopes belong to the unit above them"),
                Arguments.of("unknown scope type", with(3, "    scope device 0000:00:02.0"),
                        "t.txt:3: unknown device scope type 'device':"
                                + " expected 'endpoint SSSS:BB:DD.F' or 'bridge SSSS:BB:DD.F SS-EE'"),
                Arguments.of("scope on another segment", with(3, "    scope endpoint 0001:00:02.0"),
                        "t.txt:3: scope endpoint 0001:00:02.0 is on segment 0001: expected unit dmar0's segment 0000"),
                Arguments.of("endpoint named by two units", with(5, "    scope endpoint 0000:00:02.0"),
                        "t.txt:5: endpoint 0000:00:02.0 already in unit dmar0 (line 3):"
                                + " expected each endpoint named by one unit"),
                Arguments.of("malformed PCI address", with(7, "endpoint 0000:00:14"),
                        "t.txt:7: malformed PCI address '0000:00:14': expected SSSS:BB:DD.F in hexadecimal,"
                                + " e.g. 0000:3b:00.1"),
                Arguments.of("duplicate device", plus("endpoint 0000:00:14.0"),
                        "t.txt:10: endpoint 0000:00:14.0 is already present as endpoint 0000:00:14.0 (line 7):"
                                + " expected each PCI function once"),
                Arguments.of("inverted bus range", with(8, "bridge   0000:00:1c.0 05-01"),
                        "t.txt:8: bad bus range of bridge 0000:00:1c.0 '05-01':"
                                + " secondary bus after subordinate bus, expected SS <= EE"),
                Arguments.of("bad number", with(9, "sriov 0000:01:00.0 totalvfs=64 numvfs=eight offset=128 stride=1"),
                        "t.txt:9: bad numvfs of PF 0000:01:00.0 'eight':"
                                + " expected a decimal number (or 0x-prefixed hexadecimal) 0..65535"),
                Arguments.of("numvfs above totalvfs", with(9, "sriov 0000:01:00.0 totalvfs=64 numvfs=65 offset=128 stride=1"),
                        "t.txt:9: PF 0000:01:00.0: numvfs 65 out of range: expected 0..totalvfs (64)"),
                Arguments.of("missing SR-IOV attribute", with(9, "sriov 0000:01:00.0 totalvfs=64 numvfs=8 offset=128"),
                        "t.txt:9: sriov 0000:01:00.0 lacks stride=:"
                                + " expected 'sriov 0000:01:00.0 totalvfs=N numvfs=N offset=N stride=N [ats]'"),
                Arguments.of("VF beyond bus 255",
                        plus("sriov 0000:ff:00.0 totalvfs=256 numvfs=200 offset=128 stride=1"),
                        "t.txt:10: VF 129 of PF 0000:ff:00.0 would have routing id 0x10000, beyond bus 255"
                                + " (First VF Offset 128, VF Stride 1): expected every VF at or below 0000:ff:1f.7"),
                Arguments.of("VF landing on an endpoint", plus("endpoint 0000:01:10.3"),
                        "t.txt:10: endpoint 0000:01:10.3 is already present as VF 4 of PF 0000:01:00.0 (0000:01:10.3)"
                                + " (line 9): expected each PCI function once"),
                Arguments.of("bridge scope disagreeing with the bridge", plus("unit dmar2 base=0xfed92000"
                        + " cap=d2008c40660462 ecap=f050da", "scope bridge 0000:00:1c.0 01-02"),
                        "t.txt:11: bridge scope bridge 0000:00:1c.0 01-02 disagrees with bridge 0000:00:1c.0 01-01"
                                + " (line 8): expected the same bus range"),
                Arguments.of("endpoint scope naming a bridge", with(3, "    scope endpoint 0000:00:1c.0"),
                        "t.txt:3: endpoint scope 0000:00:1c.0 names bridge 0000:00:1c.0 (line 8):"
                                + " expected 'scope bridge 0000:00:1c.0 SS-EE'"),
                Arguments.of("endpoint with two arguments", with(6, "endpoint 0000:00:02.0 gpu"),
                        "t.txt:6: endpoint takes an address and an optional flag: expected 'endpoint SSSS:BB:DD.F"
                                + " [ats]'"),
                Arguments.of("unknown bridge kind", with(8, "bridge   0000:00:1c.0 01-01 kind=pcie-switch"),
                        "t.txt:8: bridge 0000:00:1c.0: unknown kind 'pcie-switch': expected pcie-port (a root or"
                                + " switch port), pcie-to-pci (a PCIe-to-PCI/PCI-X bridge) or pci (a conventional PCI"
                                + " bridge)"),
                Arguments.of("empty bridge kind", with(8, "bridge   0000:00:1c.0 01-01 kind="),
                        "t.txt:8: bridge 0000:00:1c.0: unknown kind '': expected pcie-port (a root or"
                                + " switch port), pcie-to-pci (a PCIe-to-PCI/PCI-X bridge) or pci (a conventional PCI"
                                + " bridge)"),
                Arguments.of("unknown bridge attribute", with(8, "bridge   0000:00:1c.0 01-01 type=pci"),
                        "t.txt:8: bridge 0000:00:1c.0: unknown attribute 'type=pci': expected one of [kind=]"),
                Arguments.of("bridge without a bus range", with(8, "bridge   0000:00:1c.0 kind=pci"),
                        "t.txt:8: bridge takes an address and a bus range, then an optional kind: expected"
                                + " 'bridge SSSS:BB:DD.F SS-EE [kind=pcie-port|pcie-to-pci|pci]'"),
                Arguments.of("bridge with two kinds", with(8, "bridge   0000:00:1c.0 01-01 kind=pci kind=pci"),
                        "t.txt:8: bridge takes an address and a bus range, then an optional kind: expected"
                                + " 'bridge SSSS:BB:DD.F SS-EE [kind=pcie-port|pcie-to-pci|pci]'"),
                Arguments.of("kind on an endpoint", with(7, "endpoint 0000:00:14.0 kind=pci"),
                        "t.txt:7: endpoint 0000:00:14.0: 'kind=pci' on an endpoint: expected 'kind=' only on"
                                + " a 'bridge' line"),
                Arguments.of("kind on an SR-IOV PF",
                        with(9, "sriov 0000:01:00.0 totalvfs=64 numvfs=8 offset=128 stride=1 kind=pcie-port"),
                        "t.txt:9: sriov 0000:01:00.0: 'kind=pcie-port' on an SR-IOV PF: expected 'kind=' only on"
                                + " a 'bridge' line"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesMalformedInputWithFileLineAndExpectation(String what, List<String> lines, String message) {
        assertThatThrownBy(() -> parse(lines))
                .isInstanceOf(PlatformFormatException.class)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message)
                .hasNoCause();
        assertThat(message).doesNotContain("\n");
    }

    @Test
    void reportsTheLineOfTheProblem() {
        assertThatThrownBy(() -> parse(with(7, "device 0000:00:14.0")))
                .isInstanceOfSatisfying(PlatformFormatException.class, e -> {
                    assertThat(e.source()).isEqualTo("t.txt");
                    assertThat(e.line()).isEqualTo(7);
                });
    }

    @Test
    void anEmptyFileHasNoHeader() {
        assertThatThrownBy(() -> parse(List.of("# just a comment", "")))
                .hasMessage("t.txt:2: no header: expected the first statement to be 'iommu-platform 2'");
    }

    @Test
    void namesTheFileItRead(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad-platform.txt");
        Files.write(file, with(9, "sriov 0000:01:00.0 totalvfs=64 numvfs=8 offset=128 stride=1 extra"));
        assertThatThrownBy(() -> PlatformFileParser.parse(file))
                .hasMessage(file + ":9: sriov 0000:01:00.0: unknown attribute 'extra':"
                        + " expected one of [numvfs=, offset=, stride=, totalvfs=, ats]");
        Files.write(file, VALID);
        assertThat(PlatformFileParser.parse(file).source()).isEqualTo(file.toString());
    }

    @Test
    void refusesBytesThatAreNotUtf8() {
        byte[] bytes = "iommu-platform 1\nendpoint 0000:00:02.0 \u00ff\n".getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> PlatformFileParser.parse("bin.dat", new ByteArrayInputStream(bytes)))
                .hasMessage("bin.dat:2: not UTF-8 text: expected a text file");
    }
}
