package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.support.StateDirectoryLock;
import iommu.core.assign.DomainIdTable;

/**
 * Issue 16 in the core: a state directory has one writer (a core of another
 * framework, or a second one of the same, is refused in one line and the
 * directory is left as it was), and rebuilding the units' tables needs a
 * whole journal and tells, in {@code state}, which unit's tables were set
 * aside and rebuilt.
 */
class StateDirectoryTest {

    @TempDir
    Path dir;
    @TempDir
    Path area;

    AssignmentManager core(String framework, TestUnit unit, boolean rebuild) {
        Fixture f = new Fixture();
        AssignmentManager m = new AssignmentManager(MappingsTest.bundle(area.resolve(framework), framework),
                new DomainIdTable(), f.flush, Fixture.silentLogger(), Fixture.config("per-unit", dir.toString(),
                        rebuild));
        m.bindUnit(unit);
        f.bind(m, new PerUnitStrategy());
        m.activate();
        return m;
    }

    TestUnit unit() {
        return new TestUnit("dmar0", 256, new java.util.ArrayList<>()).withDevices(0x18, 4);
    }

    @Test
    void aCoreOfAnotherFrameworkOrASecondOneOfTheSameIsRefusedAndTouchesNothing() throws Exception {
        TestUnit unit = unit();
        AssignmentManager first = core("A", unit, false);
        PciAddress device = unit.deviceList().get(0);
        first.attach(GuestId.guest(1), List.of(device));
        byte[] journal = Files.readAllBytes(dir.resolve("journal"));

        for (String framework : List.of("B", "A")) {
            AssignmentManager second = core(framework, unit(), false);
            assertThat(second.state().directory).isNull();
            assertThat(second.state().problems).singleElement().asString()
                    .startsWith("state directory " + dir + " is in use by another "
                            + (framework.equals("B") ? "framework of this process" : "iommu.core of this framework")
                            + " (pid " + ProcessHandle.current().pid())
                    .endsWith("one process at a time may use it; wait for that one to end, or use another directory");
            assertThat(second.guests()).isEmpty();
            second.deactivate();
        }
        assertThat(Files.readAllBytes(dir.resolve("journal"))).isEqualTo(journal);

        first.deactivate(); // lets the directory go
        AssignmentManager next = core("B", unit(), false);
        assertThat(next.state().directory).isEqualTo(dir.toString());
        assertThat(next.guests()).hasSize(1);
        next.deactivate();
    }

    @Test
    void theLockIsSharedWithTheOtherComponentsOfTheFramework() {
        try (StateDirectoryLock vtd = StateDirectoryLock.acquire(dir, "framework A", "iommu.vtd")) {
            AssignmentManager core = core("A", unit(), false);
            assertThat(core.state().directory).isEqualTo(dir.toString());
            core.deactivate();
        }
    }

    @Test
    void rebuildingNeedsAJournal() throws Exception {
        AssignmentManager core = core("A", unit(), true);
        assertThat(core.state().directory).isNull();
        assertThat(core.state().problems).containsExactly("the tables are not rebuilt (nothing was set aside): state"
                + " directory " + dir + " has no journal to rebuild the units' tables from: expected a directory a"
                + " previous run kept its state in");
        core.deactivate();
        Files.writeString(dir.resolve("journal"), "iommu-journal 1\n12345678 attach 1 dmar0 1 0000:18:00.0\n"
                + "00000000 detach 0000:18:00.0\n");
        core = core("A", unit(), true);
        assertThat(core.state().problems).singleElement().asString().startsWith("the tables are not rebuilt (nothing"
                + " was set aside): " + dir.resolve("journal") + ":2: damaged record");
        core.deactivate();
    }

    @Test
    void aUnitWhoseTablesWereSetAsideIsToldInTheStateAndGetsTheJournalsAssignments() {
        TestUnit unit = unit();
        AssignmentManager first = core("A", unit, false);
        PciAddress device = unit.deviceList().get(0);
        first.attach(GuestId.guest(1), List.of(device));
        first.map(GuestId.guest(1), 0x10_0000, 0x4000_0000, 2);
        first.deactivate();

        TestUnit rebuilt = new TestUnit("dmar0", 256, new java.util.ArrayList<>()) {
            @Override
            public Optional<String> tablesSetAside() {
                return Optional.of("table file X refused: damaged; set aside as X.refused-1");
            }
        }.withDevices(0x18, 4);
        AssignmentManager core = core("A", rebuilt, true);
        assertThat(core.state().problems).isEmpty();
        assertThat(core.state().restored).isEqualTo(1);
        assertThat(core.state().rebuilt).containsExactly("unit dmar0: table file X refused: damaged; set aside as"
                + " X.refused-1; its tables are rebuilt from the journal");
        assertThat(rebuilt.context(device)).isPresent();
        assertThat(core.audit()).isEmpty();
        core.deactivate();
    }
}
