package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.core.assign.DomainIdTable;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.core.recovery.Journal;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * DESIGN section 6 and issue 8: with a state directory the units' tables are
 * kept in files, so after a killed process the core finds two records, the
 * tables the units inherited and its own journal. It adopts every present
 * context entry (reserving its domain id, as Linux does after kdump), writes
 * nothing where both agree, and reports each disagreement instead of guessing.
 */
class KeptTablesTest {

    static final long CAP = 0xd2008c40660462L;
    static final long ECAP = 0xf050daL;
    final PciAddress a = PciAddress.parse("0000:03:00.0");
    final PciAddress b = PciAddress.parse("0000:03:00.1");
    final PciAddress c = PciAddress.parse("0000:05:00.0");

    @TempDir
    Path state;

    /** One process: a unit on its table file under the state directory, the core journaling there. */
    final class Run {
        final DomainIdTable table = new DomainIdTable();
        final VtdUnit unit = StandaloneUnit.createKept("dmar0", CAP, ECAP, List.of(a, b, c), state.resolve("vtd"));
        final AssignmentManager core;

        Run() {
            FlushServiceImpl flush = new FlushServiceImpl(null, table, Fixture.silentLogger(),
                    FlushOrderingTest.timeout(5_000));
            core = new AssignmentManager(table, flush, Fixture.silentLogger(),
                    Fixture.config("per-unit", state.toString()));
            flush.bindUnit(unit);
            core.bindUnit(unit);
            core.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit"));
            core.activate();
        }

        /** SIGKILL: nothing more is written, the table file is merely let go. */
        void kill() {
            StandaloneUnit.close(unit);
        }
    }

    @Test
    void whereTablesAndJournalAgreeNothingIsWrittenAgainAndTheIdsStayTaken() {
        Run first = new Run();
        first.core.attach(GuestId.guest(1), List.of(a));
        first.core.attach(GuestId.guest(2), List.of(b));
        first.core.map(GuestId.guest(1), 0x10_0000, 0x4000_0000, 8);
        first.kill();

        Run second = new Run();
        assertThat(second.unit.inheritedTables()).isTrue();
        assertThat(second.core.state().problems).isEmpty();
        assertThat(second.core.state().restored).isZero(); // every entry was found in the tables, none written
        assertThat(second.unit.invalidationCounts().get("device")).isZero();
        assertThat(second.unit.context(a)).contains(new DeviceContext(DomainId.of(1), GuestId.guest(1)));
        assertThat(second.unit.context(b)).contains(new DeviceContext(DomainId.of(2), GuestId.guest(2)));
        assertThat(second.unit.translate(a, 0x10_7000).hostAddress()).hasValue(0x4000_7000L);
        assertThat(second.core.audit()).isEmpty();
        // the inherited ids are taken: the next guest gets 3
        assertThat(second.core.attach(GuestId.guest(3), List.of(c)).devices.get(0).did).isEqualTo(3);
        // the replayed mapping can be unmapped and mapped again: tables and journal agree on it
        second.core.unmap(GuestId.guest(1), 0x10_0000, 8);
        assertThat(second.unit.translate(a, 0x10_7000).isFault()).isTrue();
        second.kill();
    }

    @Test
    void anEntryTheJournalLacksIsAdoptedWithItsIdAndReported() {
        Run first = new Run();
        first.core.attach(GuestId.guest(1), List.of(a));
        // killed after the context entry was written, before the journal had the attach
        first.unit.setContext(c, new DeviceContext(DomainId.of(7), GuestId.guest(4)));
        first.kill();

        Run second = new Run();
        assertThat(second.core.state().problems).containsExactly("device 0000:05:00.0 is attached to guest 4"
                + " (domain id 7 on unit dmar0) but the journal does not have it; kept");
        assertThat(second.core.guests()).extracting(g -> g.guest).containsExactly(1, 4);
        assertThat(second.core.audit()).isEmpty();
        // its id is reserved: never handed to another guest while the entry may be cached
        for (int g = 10; g < 16; g++) {
            second.core.attach(GuestId.guest(g), List.of(b));
            assertThat(second.unit.context(b).orElseThrow().domainId()).isNotEqualTo(DomainId.of(7));
            second.core.detach(List.of(b));
        }
        second.kill();
    }

    @Test
    void anEntryTheTablesLostIsRestoredFromTheJournalAndReported() {
        Run first = new Run();
        first.core.attach(GuestId.guest(1), List.of(a, b));
        // killed after a detach cleared the entry, before the journal had it
        first.unit.clearContext(b);
        first.kill();

        Run second = new Run();
        assertThat(second.core.state().problems).containsExactly("device 0000:03:00.1: the journal has it attached"
                + " to guest 1 (domain id 1 on unit dmar0) but the unit's kept tables do not (a detach that was not"
                + " acknowledged, or lost tables); restored from the journal");
        assertThat(second.core.state().restored).isEqualTo(1);
        assertThat(second.unit.context(b)).contains(new DeviceContext(DomainId.of(1), GuestId.guest(1)));
        assertThat(second.core.audit()).isEmpty();
        second.kill();
    }

    @Test
    void aMapTheTablesHaveButTheJournalDoesNotCannotHappenTheJournalIsWrittenFirst() {
        Run first = new Run();
        first.core.attach(GuestId.guest(1), List.of(a));
        first.core.map(GuestId.guest(1), 0x20_0000, 0x5000_0000, 2);
        first.kill();
        Journal.State journal = Journal.read(state);
        assertThat(journal.mappings.get(GuestId.guest(1)).runs()).hasSize(1);

        Run second = new Run();
        // the replay writes the journal's runs over what the tables hold: no "already mapped" refusal
        assertThat(second.core.state().problems).isEmpty();
        assertThat(second.unit.translate(a, 0x20_1000).hostAddress()).hasValue(0x5000_1000L);
        second.kill();
    }

    @Test
    void whileAUnitIsAwayItsGuestsCannotUnmapAndWhatTheyMapReachesItsKeptTablesWhenItReturns() {
        Run first = new Run();
        first.core.attach(GuestId.guest(1), List.of(a));
        first.core.map(GuestId.guest(1), 0x10_0000, 0x4000_0000, 1);
        first.kill();
        Run second = new Run();
        assertThat(second.unit.inheritedTables()).isTrue();
        second.core.unbindUnit(second.unit); // its bundle restarts: the unit is away, its tables kept

        String before = AssignmentManagerTest.snapshot(second.core);
        assertThatThrownBy(() -> second.core.unmap(GuestId.guest(1), 0x10_0000, 1))
                .isInstanceOf(iommu.api.IommuException.class)
                .hasMessage("unit dmar0, where guest 1 holds domain id 1, is not present: its tables cannot be"
                        + " unmapped now");
        assertThat(AssignmentManagerTest.snapshot(second.core)).isEqualTo(before);
        second.core.map(GuestId.guest(1), 0x20_0000, 0x5000_0000, 1); // kept for the unit's return

        second.core.bindUnit(second.unit); // back, on the same kept tables
        assertThat(second.unit.translate(a, 0x10_0000).hostAddress()).hasValue(0x4000_0000L);
        assertThat(second.unit.translate(a, 0x20_0000).hostAddress()).hasValue(0x5000_0000L);
        second.core.unmap(GuestId.guest(1), 0x10_0000, 1);
        assertThat(second.unit.translate(a, 0x10_0000).isFault()).isTrue();
        assertThat(second.core.audit()).isEmpty();
        assertThat(second.core.state().problems).isEmpty();
        second.kill();
    }
}
