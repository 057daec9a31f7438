package iommu.vtd;

import static iommu.vtd.DmarBytes.appended;
import static iommu.vtd.DmarBytes.bytes;
import static iommu.vtd.DmarBytes.resource;
import static iommu.vtd.DmarBytes.truncated;
import static iommu.vtd.DmarBytes.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import iommu.vtd.DmarTable.Drhd;
import iommu.vtd.DmarTable.Hop;
import iommu.vtd.DmarTable.Scope;

/**
 * The DMAR parser on the project's iasl-compiled tables and on malformed
 * variants made from them. Offsets in server-two-segments.dat: DRHD #0 0x30,
 * #1 0x5c, #2 0x84 (its scope at 0x94), #3 0x9c, RMRR #0 0xac, #1 0xd6,
 * ATSR #0 0xf6, #1 0x106, RHSA #0 0x10e, #1 0x122, ANDD #0 0x136, end 0x14d.
 */
class DmarParserTest {

    static final byte[] SERVER = resource("server-two-segments.dat");
    static final byte[] CLIENT = resource("client-satc.dat");

    static DmarTable parse(byte[] bytes) {
        return DmarParser.parse("t.dat", bytes);
    }

    @Test
    void readsTheHeaderOfTheTwoSegmentServer() {
        DmarTable table = parse(SERVER);
        assertThat(table.length()).isEqualTo(0x14d).isEqualTo(SERVER.length);
        assertThat(table.revision()).isEqualTo(1);
        assertThat(table.oemId()).isEqualTo("IOMMU ");
        assertThat(table.oemTableId()).isEqualTo("TWOSEGS ");
        assertThat(table.oemRevision()).isEqualTo(2);
        assertThat(table.creatorId()).isEqualTo("INTL");
        assertThat(table.hostAddressWidth()).isEqualTo(46);
        assertThat(table.flags()).isEqualTo(3);
        assertThat(table.interruptRemapping()).isTrue();
        assertThat(table.warnings()).isEmpty();
        assertThat(table.structures()).extracting(DmarTable.Structure::type)
                .containsExactly(0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4);
    }

    @Test
    void readsFourDrhdsOnTwoSegmentsWithEveryScopeType() {
        List<Drhd> drhds = parse(SERVER).drhds();
        assertThat(drhds).extracting(Drhd::registerBase)
                .containsExactly(0xfed90000L, 0xfed91000L, 0xfed92000L, 0xfed93000L);
        assertThat(drhds).extracting(Drhd::segment).containsExactly(0, 0, 1, 1);
        assertThat(drhds).extracting(Drhd::includePciAll).containsExactly(false, true, false, true);
        assertThat(drhds).extracting(Drhd::offset).containsExactly(0x30, 0x5c, 0x84, 0x9c);
        assertThat(drhds.get(0).describe()).isEqualTo("DRHD #0 at offset 0x30");

        List<Scope> gfx = drhds.get(0).scopes();
        assertThat(gfx).extracting(Scope::type).containsExactly(Scope.ENDPOINT, Scope.ENDPOINT, Scope.BRIDGE);
        assertThat(gfx.get(0).path()).containsExactly(new Hop(0x02, 0));
        // multi-hop: root port 00:1c.0, then device 00.0 on its secondary bus
        assertThat(gfx.get(1).startBus()).isZero();
        assertThat(gfx.get(1).path()).containsExactly(new Hop(0x1c, 0), new Hop(0, 0));
        assertThat(gfx.get(1).length()).isEqualTo(10);
        assertThat(gfx.get(2)).hasToString("bridge 00:[1d.0/00.0]");

        List<Scope> all = drhds.get(1).scopes();
        assertThat(all).extracting(Scope::type).containsExactly(Scope.IOAPIC, Scope.HPET, Scope.NAMESPACE);
        assertThat(all).extracting(Scope::enumerationId).containsExactly(2, 0, 1);
        assertThat(all.get(0).startBus()).isEqualTo(0xf0);
        assertThat(drhds.get(2).scopes()).singleElement()
                .satisfies(s -> assertThat(s).hasToString("bridge 40:[00.0]"));
        assertThat(drhds.get(3).scopes()).isEmpty();
    }

    @Test
    void readsRmrrAtsrRhsaAndAndd() {
        DmarTable table = parse(SERVER);
        assertThat(table.rmrrs()).hasSize(2);
        DmarTable.Rmrr usb = table.rmrrs().get(0);
        assertThat(usb.base()).isEqualTo(0x7d000000L);
        assertThat(usb.limit()).isEqualTo(0x7d1fffffL);
        assertThat(usb.scopes()).extracting(Scope::toString)
                .containsExactly("endpoint 00:[14.0]", "endpoint 00:[1c.0/00.0]");
        assertThat(table.rmrrs().get(1).segment()).isEqualTo(1);

        assertThat(table.atsrs()).extracting(DmarTable.Atsr::allPorts).containsExactly(false, true);
        assertThat(table.atsrs().get(0).scopes()).singleElement().hasToString("bridge 00:[1d.0]");
        assertThat(table.atsrs().get(1).segment()).isEqualTo(1);

        assertThat(table.rhsas()).extracting(DmarTable.Rhsa::registerBase).containsExactly(0xfed90000L, 0xfed92000L);
        assertThat(table.rhsas()).extracting(DmarTable.Rhsa::proximityDomain).containsExactly(0L, 1L);

        assertThat(table.andds()).singleElement().satisfies(andd -> {
            assertThat(andd.deviceNumber()).isEqualTo(1);
            assertThat(andd.name()).isEqualTo("\\_SB.PCI0.I2C0");
            assertThat(andd.offset()).isEqualTo(0x136);
        });
    }

    @Test
    void readsSatcAndSkipsTheUnknownTypeSixByItsLength() {
        DmarTable table = parse(CLIENT);
        assertThat(table.revision()).isEqualTo(2);
        assertThat(table.hostAddressWidth()).isEqualTo(39);
        assertThat(table.flags()).isEqualTo(5);
        assertThat(table.drhds()).extracting(Drhd::registerBase).containsExactly(0xfed90000L, 0xfed91000L);
        assertThat(table.rmrrs()).singleElement().satisfies(r -> assertThat(r.limit()).isEqualTo(0x7fffffffL));
        assertThat(table.satcs()).singleElement().satisfies(satc -> {
            assertThat(satc.flags()).isEqualTo(1);
            assertThat(satc.offset()).isEqualTo(0x88);
            assertThat(satc.scopes()).extracting(Scope::toString)
                    .containsExactly("endpoint 00:[02.0]", "endpoint 00:[05.0]");
        });
        assertThat(table.unknown()).singleElement().satisfies(u -> {
            assertThat(u.type()).isEqualTo(6);
            assertThat(u.offset()).isEqualTo(0xa0);
            assertThat(u.length()).isEqualTo(0x18);
        });
        assertThat(table.warnings()).containsExactly("t.dat: structure type 6 at offset 0xa0: length 0x18: not a type"
                + " this parser knows (0..5: DRHD, RMRR, ATSR, RHSA, ANDD, SATC), a SIDP of later VT-d"
                + " specifications; skipped by its length");
    }

    /** The committed binaries are what their sources say: same structure types in order, same DRHD bases. */
    @ParameterizedTest
    @ValueSource(strings = {"server-two-segments", "client-satc"})
    void eachBinaryMatchesItsSource(String name) throws IOException {
        String dsl = Files.readString(DmarBytes.DMAR_SOURCES.resolve(name + ".dsl"), StandardCharsets.UTF_8);
        DmarTable table = parse(resource(name + ".dat"));
        assertThat(table.structures()).extracting(DmarTable.Structure::type).containsExactlyElementsOf(
                hexFields(dsl, "Subtable Type").stream().map(Long::intValue).toList());
        assertThat(table.drhds()).extracting(Drhd::registerBase)
                .containsExactlyElementsOf(hexFields(dsl, "Register Base Address"));
        assertThat(table.hostAddressWidth() - 1L).isEqualTo(hexFields(dsl, "Host Address Width").get(0));
    }

    @Test
    void theDefaultPlatformBinaryMatchesItsSource() throws IOException {
        Path dir = Path.of("src/main/resources/iommu/vtd");
        String dsl = Files.readString(dir.resolve("default-platform.dsl"), StandardCharsets.UTF_8);
        DmarTable table = DmarParser.parse(dir.resolve("default-platform.dat"));
        assertThat(table.structures()).extracting(DmarTable.Structure::type).containsExactlyElementsOf(
                hexFields(dsl, "Subtable Type").stream().map(Long::intValue).toList());
        assertThat(table.drhds()).extracting(Drhd::registerBase)
                .containsExactlyElementsOf(hexFields(dsl, "Register Base Address"));
        assertThat(table.warnings()).isEmpty();
    }

    static List<Long> hexFields(String dsl, String field) {
        Matcher m = Pattern.compile("(?m)^\\[\\d{4}\\]\\s+" + Pattern.quote(field) + " : ([0-9A-Fa-f]+)").matcher(dsl);
        List<Long> values = new ArrayList<>();
        while (m.find()) {
            values.add(Long.parseUnsignedLong(m.group(1), 16));
        }
        return values;
    }

    // ---- malformed tables: the whole table refused ----------------------------------------------

    static Stream<Arguments> fatal() {
        return Stream.of(
                Arguments.of("empty file", new byte[0],
                        "t.dat: header: empty file: expected an ACPI DMAR table (as /sys/firmware/acpi/tables/DMAR"
                                + " or acpidump -b gives it)"),
                Arguments.of("truncated in the header", truncated(SERVER, 20),
                        "t.dat: header: truncated: the file has 20 bytes: expected at least the 36-byte ACPI header"),
                Arguments.of("truncated in the structures (length field larger than the file)",
                        truncated(SERVER, 200),
                        "t.dat: header: length field at offset 0x4 says 0x14d bytes but the file has 0xc8:"
                                + " expected the whole table (truncated file?)"),
                Arguments.of("wrong signature", with(SERVER, 0, 4, 0x58414d44L /* "DMAX" */),
                        "t.dat: header: signature \"DMAX\": expected \"DMAR\""),
                Arguments.of("another table's signature", "APIC".getBytes(StandardCharsets.US_ASCII),
                        "t.dat: header: signature \"APIC\": expected \"DMAR\""),
                Arguments.of("a signature cut short", bytes('D', 'M'),
                        "t.dat: header: signature \"DM\" (2 bytes): expected \"DMAR\""),
                Arguments.of("binary junk", bytes(0x7f, 'E', 'L', 'F', 2, 1, 1),
                        "t.dat: header: signature \"\\x7fELF\": expected \"DMAR\""),
                Arguments.of("bad checksum", flipped(SERVER, 0x100),
                        "t.dat: header: checksum 0x" + hex2(SERVER[9]) + " at offset 0x9 makes the 333 bytes sum to"
                                + " 0x01 mod 256: expected 0 (checksum 0x" + hex2(SERVER[9] - 1) + ")"),
                Arguments.of("length field below the fixed fields", with(SERVER, 4, 4, 40),
                        "t.dat: header: length field 0x28 (40 bytes) at offset 0x4: expected at least 0x30"
                                + " (the ACPI header and the DMAR fields before the first structure)"),
                Arguments.of("host address width below a page", with(SERVER, 36, 1, 5),
                        "t.dat: header: host address width field 0x05 (6 bits) at offset 0x24: expected at least"
                                + " 0x0b (12 bits; the field holds the width minus one)"),
                Arguments.of("zero structure length", with(SERVER, 0x5e, 2, 0),
                        "t.dat: DRHD #1 at offset 0x5c: length 0 at offset 0x5e: expected at least 4 (the type and"
                                + " length fields); the structures after it cannot be found"),
                Arguments.of("overlong structure length", with(SERVER, 0x138, 2, 0x40),
                        "t.dat: ANDD #0 at offset 0x136: length 0x40 runs to offset 0x176, past the table's end"
                                + " 0x14d: expected each structure to end within the table"),
                Arguments.of("a structure header cut by the table's end", appended(SERVER, bytes(0, 0)),
                        "t.dat: structure at offset 0x14d: 2 bytes left before the table's end 0x14f:"
                                + " expected a 4-byte type and length header"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fatal")
    void refusesAMalformedTableInOneLineNamingTheOffset(String what, byte[] bytes, String message) {
        assertThatThrownBy(() -> parse(bytes))
                .isInstanceOf(DmarFormatException.class)
                .isInstanceOf(PlatformFormatException.class)
                .hasMessage(message)
                .hasNoCause();
        assertThat(message).doesNotContain("\n").contains("expected");
    }

    @Test
    void theExceptionNamesTheOffsetAndTheStructure() {
        assertThatThrownBy(() -> parse(with(SERVER, 0x5e, 2, 0)))
                .isInstanceOfSatisfying(DmarFormatException.class, e -> {
                    assertThat(e.source()).isEqualTo("t.dat");
                    assertThat(e.offset()).isEqualTo(0x5e);
                    assertThat(e.where()).isEqualTo("DRHD #1 at offset 0x5c");
                });
    }

    // ---- malformed structures: reported, the rest kept ------------------------------------------

    @Test
    void aShortDeviceScopeVoidsItsDrhdOnlyAndTheOtherUnitsRemain() {
        DmarTable table = parse(with(SERVER, 0x95, 1, 4));
        assertThat(table.drhds()).extracting(Drhd::index).containsExactly(0, 1, 3);
        assertThat(table.warnings()).containsExactly("t.dat: DRHD #2 at offset 0x84: device scope at offset 0x94 has"
                + " length 4: expected at least 8 (a 6-byte header and one (device, function) pair); the DRHD is"
                + " skipped");
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        assertThat(platform.units()).extracting(UnitDefinition::registerBase)
                .containsExactly(0xfed90000L, 0xfed91000L, 0xfed93000L);
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1", "dmar2");
        assertThat(platform.warnings()).contains(table.warnings().get(0));
    }

    static Stream<Arguments> structureProblems() {
        return Stream.of(
                Arguments.of("scope running past its DRHD", with(SERVER, 0x95, 1, 0x10), 2,
                        "t.dat: DRHD #2 at offset 0x84: device scope at offset 0x94 has length 16, running to 0xa4"
                                + " past the structure's end 0x9c: expected it inside its structure; the DRHD is skipped"),
                Arguments.of("scope with an odd path length", with(SERVER, 0x95, 1, 9), 2,
                        "t.dat: DRHD #2 at offset 0x84: device scope at offset 0x94 has length 9, running to 0x9d"
                                + " past the structure's end 0x9c: expected it inside its structure; the DRHD is skipped"),
                Arguments.of("path naming device 0x20", with(SERVER, 0x46, 1, 0x20), 0,
                        "t.dat: DRHD #0 at offset 0x30: device scope at offset 0x40: path entry (20,00) at offset 0x46:"
                                + " expected a device 00..1f and a function 0..7; the DRHD is skipped"),
                Arguments.of("register base 0", with(SERVER, 0x9c + 8, 8, 0), 3,
                        "t.dat: DRHD #3 at offset 0x9c: register base 0x0 at offset 0xa4: expected a nonzero 4 KiB-aligned"
                                + " address; the DRHD is skipped"),
                Arguments.of("unaligned register base", with(SERVER, 0x84 + 8, 8, 0xfed92010L), 2,
                        "t.dat: DRHD #2 at offset 0x84: register base 0xfed92010 at offset 0x8c: expected a nonzero"
                                + " 4 KiB-aligned address; the DRHD is skipped"),
                Arguments.of("DRHD shorter than its fixed fields",
                        appended(SERVER, bytes(0, 0, 12, 0, 1, 0, 0, 0, 0, 0x40, 0xd9, 0xfe)), 4,
                        "t.dat: DRHD #4 at offset 0x14d: length 12: expected at least 16 (the flags, size, segment"
                                + " and register base); the DRHD is skipped"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("structureProblems")
    void aMalformedDrhdIsAWarningAndTheOthersAreKept(String what, byte[] bytes, int skipped, String warning) {
        DmarTable table = parse(bytes);
        assertThat(table.warnings()).containsExactly(warning);
        assertThat(table.drhds()).extracting(Drhd::index).doesNotContain(skipped).hasSizeGreaterThanOrEqualTo(3);
        assertThat(table.rmrrs()).hasSize(2);
        assertThat(table.andds()).hasSize(1);
    }

    @Test
    void anUnknownStructureTypeIsSkippedByItsLength() {
        byte[] bytes = appended(appended(SERVER, bytes(9, 0, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8)),
                bytes(3, 0, 20, 0, 0, 0, 0, 0, 0, 0x30, 0xd9, 0xfe, 0, 0, 0, 0, 2, 0, 0, 0));
        DmarTable table = parse(bytes);
        assertThat(table.warnings()).containsExactly("t.dat: structure type 9 at offset 0x14d: length 0xc: not a type"
                + " this parser knows (0..5: DRHD, RMRR, ATSR, RHSA, ANDD, SATC); skipped by its length");
        assertThat(table.unknown()).singleElement().satisfies(u -> assertThat(u.type()).isEqualTo(9));
        // the walk went on after it: the RHSA appended behind it is read
        assertThat(table.rhsas()).hasSize(3).last()
                .satisfies(r -> assertThat(r.registerBase()).isEqualTo(0xfed93000L));
        assertThat(table.drhds()).hasSize(4);
    }

    @Test
    void anUnknownScopeTypeIsSkippedAndItsDrhdKept() {
        DmarTable table = parse(with(SERVER, 0x40, 1, 7));
        assertThat(table.warnings()).containsExactly("t.dat: DRHD #0 at offset 0x30: device scope at offset 0x40 has"
                + " type 7: expected 1..5 (endpoint, bridge, IOAPIC, HPET, ACPI namespace device); the scope is skipped");
        assertThat(table.drhds().get(0).scopes()).hasSize(2);
    }

    @Test
    void aScopeFlagsByteIsAccepted() {
        // VT-d 4 gives the reserved byte a meaning; real tables (Surface Pro 10) set it
        DmarTable table = parse(with(SERVER, 0x42, 1, 0x1f));
        assertThat(table.warnings()).isEmpty();
        assertThat(table.drhds().get(0).scopes().get(0).flags()).isEqualTo(0x1f);
    }

    @Test
    void bytesAfterTheTablesLengthAreAWarning() {
        byte[] longer = Arrays.copyOf(SERVER, SERVER.length + 3);
        DmarTable table = parse(longer);
        assertThat(table.warnings()).containsExactly("t.dat: header: the file has 3 bytes after the table's length"
                + " 0x14d: ignored");
        assertThat(table.drhds()).hasSize(4);
    }

    @Test
    void aFileIsNamedInItsMessages(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("DMAR");
        Files.write(file, flipped(SERVER, 0x100));
        assertThatThrownBy(() -> DmarParser.parse(file)).hasMessageStartingWith(file + ": header: checksum");
        Files.write(file, SERVER);
        assertThat(DmarParser.parse(file).source()).isEqualTo(file.toString());
    }

    static byte[] flipped(byte[] table, int offset) {
        byte[] b = Arrays.copyOf(table, table.length);
        b[offset]++;
        return b;
    }

    static String hex2(int value) {
        return String.format("%02x", value & 0xFF);
    }
}
