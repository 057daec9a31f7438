package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import iommu.vtd.DmarTable.Drhd;
import iommu.vtd.DmarTable.Scope;

/**
 * The real DMAR tables of {@code ../shared/data/dmar-real} (beside the
 * repository, never copied into it), checked against that folder's README.
 * Skipped where the folder is absent.
 */
class RealTablesTest {

    /**
     * What the README says of a table; null where it says nothing.
     *
     * @param includeAll INCLUDE_PCI_ALL of each DRHD, in table order
     */
    record Expected(String file, List<Boolean> includeAll, List<Long> bases, Integer haw, Integer flags,
            Integer revision, int rmrr, int atsr, int rhsa, int andd, int satc, int unknown) {
    }

    static final Map<String, Expected> EXPECTED = Stream.of(
            new Expected("ms-surface_pro_1", List.of(false, true), null, 36, null, null, 2, 0, 0, 0, 0, 0),
            new Expected("ms-surface_pro_4", List.of(false, true), null, null, null, null, 2, 0, 0, 4, 0, 0),
            new Expected("ms-surface_book_2", List.of(false, true), null, null, null, null, 2, 0, 0, 5, 0, 0),
            new Expected("ms-surface_laptop_se", List.of(false, true), null, null, 0x05, null, 2, 0, 0, 0, 0, 0),
            new Expected("ms-surface_laptop_studio_1", List.of(false, false, false, true), null, null, null, 2,
                    1, 0, 0, 0, 0, 0),
            new Expected("ms-surface_pro_8", List.of(false, false, false, false, true), null, null, null, 2,
                    1, 0, 0, 0, 0, 0),
            new Expected("ms-surface_pro_9_intel", List.of(false, false, true), null, null, null, 2, 1, 0, 0, 0, 0, 0),
            new Expected("ms-surface_pro_10_business", List.of(false, true), List.of(0xfc800000L, 0xfc801000L), 42,
                    null, null, 0, 0, 0, 0, 1, 1),
            new Expected("dell-precision-m6800", List.of(true), null, null, null, null, 1, 0, 0, 0, 0, 0),
            new Expected("dell-xps13-9310", List.of(false, false, false, true), null, null, null, 2, 1, 0, 0, 0, 0, 0),
            new Expected("asrock-x99-extreme4-L381", List.of(false, true), List.of(0xfbffd000L, 0xfbffc000L), 46,
                    0x03, null, 1, 1, 1, 0, 0, 0),
            new Expected("asrock-x99-extreme4-P380", List.of(false, true), null, null, null, null, 1, 1, 1, 0, 0, 0),
            new Expected("supermicro-smci-2s", List.of(false, false, false, false, false, false, false, false, false,
                    true), null, 46, null, null, 2, 1, 10, 0, 0, 0),
            new Expected("ecclesia-skx-ami", List.of(false, false, false), null, null, null, null, 1, 2, 2, 0, 0, 0),
            new Expected("apple-macpro5-1", List.of(true), List.of(0xfe710000L), 40, null, null, 0, 1, 0, 0, 0, 0))
            .collect(Collectors.toMap(Expected::file, e -> e));

    static Stream<Path> tables() throws IOException {
        if (!Files.isDirectory(DmarBytes.REAL_TABLES)) {
            return Stream.of((Path) null);
        }
        try (Stream<Path> list = Files.list(DmarBytes.REAL_TABLES)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".dat")).sorted().toList().stream();
        }
    }

    static void assumeTheFolder() {
        assumeTrue(Files.isDirectory(DmarBytes.REAL_TABLES),
                "no " + DmarBytes.REAL_TABLES.toAbsolutePath().normalize() + ": the real tables are not here");
    }

    @Test
    void everyTableOfTheReadmeIsThere() throws IOException {
        assumeTheFolder();
        assertThat(tables().map(p -> p.getFileName().toString().replace(".dat", "")))
                .containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tables")
    void yieldsTheUnitsTheReadmeDescribes(Path file) throws IOException {
        assumeTheFolder();
        String name = file.getFileName().toString().replace(".dat", "");
        Expected expected = EXPECTED.get(name);
        assertThat(expected).as("README row for %s", name).isNotNull();

        DmarTable table = DmarParser.parse(file);
        assertThat(table.length()).isEqualTo(Files.size(file));
        assertThat(table.drhds()).extracting(Drhd::includePciAll).containsExactlyElementsOf(expected.includeAll());
        if (expected.bases() != null) {
            assertThat(table.drhds()).extracting(Drhd::registerBase).containsExactlyElementsOf(expected.bases());
        }
        if (expected.haw() != null) {
            assertThat(table.hostAddressWidth()).isEqualTo(expected.haw());
        }
        if (expected.flags() != null) {
            assertThat(table.flags()).isEqualTo(expected.flags());
        }
        if (expected.revision() != null) {
            assertThat(table.revision()).isEqualTo(expected.revision());
        }
        assertThat(table.rmrrs()).hasSize(expected.rmrr());
        assertThat(table.atsrs()).hasSize(expected.atsr());
        assertThat(table.rhsas()).hasSize(expected.rhsa());
        assertThat(table.andds()).hasSize(expected.andd());
        assertThat(table.satcs()).hasSize(expected.satc());
        assertThat(table.unknown()).hasSize(expected.unknown());
        assertThat(table.hostAddressWidth()).isBetween(36, 46);

        // every DRHD becomes a unit, dmar0.. in table order, with the documented default registers
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        assertThat(platform.units()).extracting(UnitDefinition::registerBase)
                .containsExactlyElementsOf(table.drhds().stream().map(Drhd::registerBase).toList());
        assertThat(platform.units()).allSatisfy(u -> {
            assertThat(u.cap().raw()).isEqualTo(DmarUnits.DEFAULT_CAP);
            assertThat(u.domainIdCount()).isEqualTo(256);
        });
        UnitRegistry registry = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        assertThat(registry.admit(platform, name, false, false).units()).hasSize(expected.includeAll().size());
        // only unknown structures and RHSAs naming no DRHD are problems of these tables
        assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).containsAnyOf("structure type 6",
                "names no DRHD", "no PCI topology known"));
    }

    @Test
    void theSurfaceBook2IncludeAllUnitHasFiveNamespaceDevicesAmongItsSevenScopes() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("ms-surface_book_2.dat"));
        Drhd all = table.drhds().get(1);
        assertThat(all.scopes()).hasSize(7);
        assertThat(all.scopes()).filteredOn(s -> s.type() == Scope.NAMESPACE).hasSize(5);
        assertThat(table.andds()).extracting(DmarTable.Andd::name).allSatisfy(n -> assertThat(n).startsWith("\\_SB."));
        assertThat(DmarUnits.platform(table, PciInventory.empty()).warnings()).isEmpty();
    }

    @Test
    void theSurfacePro4AnddNamesAreReadWithoutTheirZeroPadding() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("ms-surface_pro_4.dat"));
        assertThat(table.andds()).extracting(DmarTable.Andd::name)
                .containsExactly("\\_SB.PCI0.I2C0", "\\_SB.PCI0.I2C1", "\\_SB.PCI0.I2C2", "\\_SB.PCI0.I2C3");
        assertThat(table.andds()).allSatisfy(a -> assertThat(a.length()).isEqualTo(0x1c));
    }

    @Test
    void theSurfacePro10SatcIsReadAndItsTypeSixStructureSkipped() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("ms-surface_pro_10_business.dat"));
        assertThat(table.satcs()).singleElement().satisfies(satc -> {
            assertThat(satc.flags()).isEqualTo(1);
            assertThat(satc.scopes()).extracting(Scope::toString)
                    .containsExactly("endpoint 00:[02.0]", "endpoint 00:[05.0]", "endpoint 00:[0b.0]");
        });
        assertThat(table.unknown()).singleElement().satisfies(u -> {
            assertThat(u.type()).isEqualTo(6);
            assertThat(u.offset()).isEqualTo(0x88);
            assertThat(u.length()).isEqualTo(0x20);
        });
        assertThat(table.warnings()).singleElement().asString().contains("structure type 6 at offset 0x88");
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        assertThat(platform.units()).extracting(UnitDefinition::id).containsExactly("dmar0", "dmar1");
        assertThat(platform.units().get(0).scopes()).extracting(DeviceScope::toString)
                .containsExactly("endpoint 0000:00:02.0");
    }

    @Test
    void theEcclesiaRhsasNameBasesNoDrhdHas() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("ecclesia-skx-ami.dat"));
        assertThat(table.drhds()).noneMatch(Drhd::includePciAll);
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        assertThat(platform.warnings()).filteredOn(w -> w.contains("names no DRHD")).hasSize(2)
                .anySatisfy(w -> assertThat(w).contains("register base 0x9d7fc000"))
                .anySatisfy(w -> assertThat(w).contains("register base 0xaaffc000"));
    }

    @Test
    void theSupermicroHasSixUnitsWithoutScopeAndItsIncludeAllUnitLast() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("supermicro-smci-2s.dat"));
        assertThat(table.drhds()).filteredOn(d -> d.scopes().isEmpty()).hasSize(6);
        assertThat(table.drhds().get(9).includePciAll()).isTrue();
        assertThat(table.rhsas()).extracting(DmarTable.Rhsa::registerBase)
                .containsExactlyInAnyOrderElementsOf(table.drhds().stream().map(Drhd::registerBase).toList());
    }

    @Test
    void theM6800RmrrHasThreeScopesThatAreReservedMemory() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("dell-precision-m6800.dat"));
        assertThat(table.rmrrs()).singleElement().satisfies(r -> assertThat(r.scopes()).hasSize(3));
        Platform platform = DmarUnits.platform(table, PciInventory.empty());
        for (String usb : List.of("0000:00:14.0", "0000:00:1a.0", "0000:00:1d.0")) {
            assertThat(platform.hasReservedMemory(iommu.api.PciAddress.parse(usb))).as(usb).isTrue();
        }
        assertThat(platform.hasReservedMemory(iommu.api.PciAddress.parse("0000:00:02.0"))).isFalse();
    }

    @Test
    void theMacProAtsrNamesThreeBridges() throws IOException {
        assumeTheFolder();
        DmarTable table = DmarParser.parse(DmarBytes.REAL_TABLES.resolve("apple-macpro5-1.dat"));
        assertThat(table.atsrs()).singleElement()
                .satisfies(a -> assertThat(a.scopes()).hasSize(3).allMatch(s -> s.type() == Scope.BRIDGE));
    }
}
