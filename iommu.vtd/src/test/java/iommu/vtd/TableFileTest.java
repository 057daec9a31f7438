package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;

/**
 * A unit's tables kept in its table file outlive the unit (a killed process)
 * and the next unit on that file inherits them, as a kdump kernel inherits
 * the tables of the one that crashed; a file that is not this unit's, or is
 * damaged, is refused with what is wrong and left as it is.
 */
class TableFileTest {

    static final long CAP = 0xd2008c40660462L; // ND=2: 256 ids, SAGAW 39/48-bit, PSI
    static final long OTHER_CAP = 0xd2008c40660463L; // ND=3
    static final long ECAP = 0xf050daL; // QI
    static final PciAddress NIC = PciAddress.parse("0000:03:00.0");
    static final PciAddress GPU = PciAddress.parse("0000:04:00.0");
    static final PciAddress HBA = PciAddress.parse("0000:05:00.0");
    static final GuestId ONE = GuestId.guest(1);
    static final GuestId TWO = GuestId.guest(2);

    @TempDir
    Path dir;

    private VtdUnit kept() {
        return StandaloneUnit.createKept("dmar9", CAP, ECAP, List.of(NIC, GPU, HBA), dir);
    }

    private Path file() throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(TableFile.SUFFIX)).findFirst().orElseThrow();
        }
    }

    @Test
    void aUnitOnAFreshFileStartsEmptyAndSaysWhereItsTablesAre() throws IOException {
        VtdUnit unit = kept();
        assertThat(unit.inheritedTables()).isFalse();
        assertThat(unit.context(NIC)).isEmpty();
        assertThat(file().getFileName().toString()).isEqualTo("vtd-0000-00000000fed90000.tables");
        assertThat(unit.describe().get("tables")).isEqualTo(file().toString());
        unit.close();
    }

    @Test
    void theNextUnitInheritsContextEntriesGuestTablesAndTranslations() {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        first.setContext(GPU, new DeviceContext(DomainId.of(7), TWO));
        first.map(ONE, 0x10_0000, 0xAB_C000, 4);
        first.map(TWO, 0x10_0000, 0x5_0000, 1);
        long contextRaw = first.contextEntry(NIC).low();
        first.close(); // the process dies: nothing else is written

        VtdUnit second = kept();
        assertThat(second.inheritedTables()).isTrue();
        assertThat(second.describe().get("tables").toString()).endsWith("(inherited, 2 present context entries found)");
        assertThat(second.context(NIC)).contains(new DeviceContext(DomainId.of(3), ONE));
        assertThat(second.context(GPU)).contains(new DeviceContext(DomainId.of(7), TWO));
        assertThat(second.context(HBA)).isEmpty();
        assertThat(second.contextEntry(NIC).low()).isEqualTo(contextRaw);
        assertThat(second.translate(NIC, 0x10_3000).hostAddress()).hasValue(0xAB_F000L);
        assertThat(second.translate(GPU, 0x10_0000).hostAddress()).hasValue(0x5_0000L);
        assertThat(second.translate(GPU, 0x10_1000).isFault()).isTrue();

        // new tables go to free pages: the inherited ones stay intact
        second.setContext(HBA, new DeviceContext(DomainId.of(9), GuestId.guest(3)));
        second.map(GuestId.guest(3), 0x20_0000, 0x9_0000, 600);
        assertThat(second.translate(NIC, 0x10_3000).hostAddress()).hasValue(0xAB_F000L);
        assertThat(second.translate(HBA, 0x20_0000 + 599 * 0x1000L).hostAddress()).hasValue(0x9_0000L + 599 * 0x1000L);
        // the driver's bookkeeping came back too: the last context entry gone frees the guest's table
        second.clearContext(GPU);
        second.unmap(TWO, 0x10_0000, 1);
        second.setContext(GPU, new DeviceContext(DomainId.of(7), TWO));
        second.invalidate(List.of(new Invalidation.Global())).toCompletableFuture().join();
        assertThat(second.translate(GPU, 0x10_0000).isFault()).isTrue();
        second.close();
    }

    @Test
    void theAllocatorCountsWhatTheTablesReach() {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        first.map(ONE, 0, 0x1000, 1);
        first.map(ONE, 1L << 30, 0x2000, 1); // two more tables
        first.unmap(ONE, 1L << 30, 1);
        long inUse = first.pagesInUse();
        first.close();

        VtdUnit second = kept(); // the old queue pages are free again, the new queue takes two of them
        assertThat(second.pagesInUse()).isEqualTo(inUse);
        assertThat(second.translate(NIC, 0).hostAddress()).hasValue(0x1000L);
        second.close();
    }

    @Test
    void aGuestWithNeitherEntryNorMappingIsReleasedOnInherit() {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        long inUse = first.pagesInUse();
        first.map(TWO, 0, 0x1000, 1); // guest 2 has a table but no entry
        first.unmap(TWO, 0, 1); // freed again: the directory forgets it before the pages go
        first.close();

        VtdUnit second = kept();
        assertThat(second.pagesInUse()).isEqualTo(inUse);
        second.close();
    }

    /**
     * LauncherCrashIT's flake: a kill during an attach, after the guest's
     * pages reached the unit but before its context entry did, left a table
     * nothing points at; the next process kept it, the guest unmapped a page
     * elsewhere, and a later attach there wrote the guest's pages over the
     * kept table, so the unit mapped the page the guest had given up.
     */
    @Test
    void aGuestTableNoEntryPointsAtIsFreedOnInheritSoALaterAttachFindsNoStalePage() {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        long inUse = first.pagesInUse();
        first.map(TWO, 0x10_0000, 0x7_0000, 2); // the attach of guest 2 replays its pages...
        first.close(); // ...and is killed before its entry is written

        VtdUnit second = kept();
        assertThat(second.pagesInUse()).isEqualTo(inUse);
        assertThat(second.mappings(TWO)).hasValue(List.of());
        second.map(TWO, 0x10_0000, 0x7_0000, 1); // guest 2 unmapped its second page meanwhile: a later attach
        second.setContext(GPU, new DeviceContext(DomainId.of(7), TWO));
        assertThat(second.translate(GPU, 0x10_0000).hostAddress()).hasValue(0x7_0000L);
        assertThat(second.translate(GPU, 0x10_1000).isFault()).isTrue();
        second.close();
    }

    @Test
    void aFileOfAnotherUnitIsRefusedAndLeftAsItIs() throws IOException {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        first.close();
        byte[] before = Files.readAllBytes(file());

        assertThatThrownBy(() -> StandaloneUnit.createKept("dmar9", OTHER_CAP, ECAP, List.of(NIC), dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("table file " + file() + " refused: it holds the tables of unit dmar9 with CAP 0x"
                        + Long.toHexString(CAP) + ": expected CAP 0x" + Long.toHexString(OTHER_CAP)
                        + ", this unit's (the platform changed? then use another state directory)"
                        + TableFile.REBUILD_HINT);
        assertThat(Files.readAllBytes(file())).isEqualTo(before);
    }

    @Test
    void anotherFormatVersionADamagedSignatureOrAShortFileAreRefused() throws IOException {
        kept().close();
        Path file = file();
        byte[] good = Files.readAllBytes(file);

        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(0x10);
            raf.write(new byte[] {2, 0, 0, 0});
        }
        assertThatThrownBy(this::kept).hasMessage("table file " + file + " refused: format version 2: expected"
                + " format version 1 (a newer platform wrote it, or it is damaged)" + TableFile.REBUILD_HINT);

        Files.write(file, good);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(3);
            raf.write('X');
        }
        assertThatThrownBy(this::kept).hasMessage("table file " + file + " refused: no IOMMU-VT-D-TABLE signature"
                + " at offset 0: expected a table file written by this platform" + TableFile.REBUILD_HINT);

        Files.write(file, new byte[100]);
        assertThatThrownBy(this::kept).hasMessage("table file " + file + " refused: 100 bytes, shorter than its"
                + " 4096-byte header: expected a table file written by this platform" + TableFile.REBUILD_HINT);
        assertThat(Files.size(file)).isEqualTo(100);
    }

    @Test
    void damagedTablesAreRefusedNamingTheEntry() throws IOException {
        VtdUnit first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        ContextEntry entry = first.contextEntry(NIC);
        long address = first.contexts().entryAddress(NIC.routingId());
        first.memory().write64(address + 8, ContextEntry.translating(entry.secondLevelPointer(), entry.addressWidth(), 0)
                .high()); // domain id 0
        first.close();
        assertThatThrownBy(this::kept).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("table file " + file() + " refused: the context entry of source id 03:00.0 holds domain"
                        + " id 0: expected 1..255" + TableFile.REBUILD_HINT);

        Files.delete(file());
        first = kept();
        first.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        address = first.contexts().entryAddress(NIC.routingId());
        first.memory().write64(address, first.memory().read64(address) + 0x1000); // SLPTPTR of no guest
        first.close();
        assertThatThrownBy(this::kept).hasMessageStartingWith("table file " + file() + " refused: the context entry"
                + " of source id 03:00.0 holds SLPTPTR 0x").hasMessageEndingWith(": expected the root of a guest's"
                + " table in the file's guest directory" + TableFile.REBUILD_HINT);
    }

    @Test
    void aFileWhoseFirstBringUpNeverFinishedStartsAfresh() throws IOException {
        kept().close();
        try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
            raf.seek(0x40);
            raf.write(new byte[8]); // no root table latched
            raf.seek((TableFile.FIRST_REGION_PAGE + 5L) * 4096);
            raf.writeLong(-1); // and garbage in the region
        }
        VtdUnit unit = kept();
        assertThat(unit.inheritedTables()).isFalse();
        unit.setContext(NIC, new DeviceContext(DomainId.of(3), ONE));
        unit.map(ONE, 0, 0x1000, 1);
        assertThat(unit.translate(NIC, 0).hostAddress()).hasValue(0x1000L);
        unit.close();
    }

    @Test
    void aClosedUnitRefusesToTouchItsFile() {
        VtdUnit unit = kept();
        unit.close();
        assertThatThrownBy(() -> unit.context(NIC)).isInstanceOf(IllegalStateException.class)
                .hasMessageEndingWith("is closed: its unit was unregistered");
    }

    @Test
    void aRegistryMovesItsUnitsTablesToTheDirectoryAndBack() throws IOException {
        Platform platform = VtdPlatform.loadDefault();
        UnitRegistry registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "default");
        VtdUnit heap = registry.unit("dmar0").orElseThrow();
        PciAddress vf = heap.devices().get(0);
        heap.setContext(vf, new DeviceContext(DomainId.of(5), ONE));

        List<VtdUnit> moved = registry.keepTablesIn(dir);
        assertThat(moved).hasSize(5).allSatisfy(u -> assertThat(u.tableFile()).isPresent());
        assertThat(moved).noneMatch(VtdUnit::inheritedTables);
        // the tables start empty there: the platform writes its assignments again (core's adopt)
        assertThat(registry.unit("dmar0").orElseThrow().context(vf)).isEmpty();
        registry.unit("dmar0").orElseThrow().setContext(vf, new DeviceContext(DomainId.of(5), ONE));
        registry.removeAll();

        UnitRegistry next = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        next.keepTablesIn(dir);
        next.addAll(platform.units(), "default");
        assertThat(next.unit("dmar0").orElseThrow().inheritedTables()).isTrue();
        assertThat(next.unit("dmar0").orElseThrow().context(vf)).contains(new DeviceContext(DomainId.of(5), ONE));
        assertThat(next.keepTablesIn(null)).allSatisfy(u -> assertThat(u.tableFile()).isEmpty());
        next.removeAll();
    }

    @Test
    void rebuildingSetsARefusedFileAsideUnderANewNameAndStartsItsUnitAfresh() throws IOException {
        Platform platform = VtdPlatform.loadDefault();
        UnitRegistry registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "default");
        UnitDefinition dmar1 = platform.units().get(1);
        Files.createDirectories(dir);
        byte[] foreign = new byte[5000];
        Files.write(TableFile.fileOf(dir, dmar1), foreign);

        registry.keepTablesIn(dir, true);
        VtdUnit unit = registry.unit("dmar1").orElseThrow();
        assertThat(unit.inheritedTables()).isFalse();
        Path aside;
        try (var files = Files.list(dir)) {
            aside = files.filter(p -> p.getFileName().toString().contains(RefusedTables.SUFFIX)).findFirst()
                    .orElseThrow();
        }
        assertThat(Files.readAllBytes(aside)).isEqualTo(foreign); // renamed, never deleted
        assertThat(aside.getFileName().toString()).matches("vtd-0000-00000000c5ffc000\\.tables\\.refused-\\d{8}T\\d{6}Z");
        assertThat(unit.tablesSetAside()).hasValue("table file " + TableFile.fileOf(dir, dmar1) + " refused: no"
                + " IOMMU-VT-D-TABLE signature at offset 0: expected a table file written by this platform; set aside"
                + " as " + aside.getFileName());
        assertThat(unit.describe().get("tables").toString()).endsWith("(new: " + unit.tablesSetAside().get() + ")");
        assertThat(registry.unit("dmar0").orElseThrow().tablesSetAside()).isEmpty();
        registry.removeAll();
    }

    @Test
    void aRegistryRefusesAFileOfAnotherUnitBeforeChangingAnything() throws IOException {
        Platform platform = VtdPlatform.loadDefault();
        UnitRegistry registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "default");
        UnitDefinition dmar1 = platform.units().get(1);
        Files.createDirectories(dir);
        Files.write(TableFile.fileOf(dir, dmar1), new byte[5000]);
        List<VtdUnit> before = registry.units();

        assertThatThrownBy(() -> registry.keepTablesIn(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unit dmar1: table file " + TableFile.fileOf(dir, dmar1) + " refused: no"
                        + " IOMMU-VT-D-TABLE signature");
        assertThat(registry.units()).isEqualTo(before);
        assertThat(registry.tablesDirectory()).isEmpty();
        registry.removeAll();
    }
}
