package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.GuestDTO;
import iommu.core.assign.DomainIdTable;
import iommu.core.recovery.Storage;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.FaultyFiles;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;

/**
 * Issue 16: the state directory on a file system that fills up. Every write
 * point of the journal and of the units' table files (each write, force,
 * truncation and rename, counted on a run where nothing fails) is failed in
 * turn, as a full disk (it and every later one) and as one failed write:
 * the operation under way fails with one line naming the directory and "no
 * space left", it is rolled back (the core's records, the audit and the DMA
 * as before it), and a new process on the directory once there is space again
 * holds every acknowledged operation and nothing else, with no disagreement
 * between journal and tables.
 */
class OutOfSpaceTest {

    static final long CAP = 0xd2008c40660462L;
    static final long ECAP = 0xf050daL;
    static final PciAddress A = PciAddress.parse("0000:03:00.0");
    static final PciAddress B = PciAddress.parse("0000:03:00.1");
    static final PciAddress C = PciAddress.parse("0000:13:00.0");
    static final GuestId ONE = GuestId.guest(1);
    static final GuestId TWO = GuestId.guest(2);
    /** Two hundred leaf tables on each unit of guest 1: the table files grow. */
    static final long WIDE = 512L * 200;

    @TempDir
    Path dir;

    /** What was acknowledged: each device's guest, each guest's mapped runs (IOVA to host address, pages). */
    static final class Model {
        final Map<PciAddress, GuestId> owner = new TreeMap<>();
        final Map<GuestId, Map<Long, long[]>> runs = new TreeMap<>();
    }

    record Op(String name, Consumer<AssignmentManager> call, Consumer<Model> effect) {
    }

    static final List<Op> OPS = List.of(
            new Op("attach 1 A", c -> c.attach(ONE, List.of(A)), m -> m.owner.put(A, ONE)),
            new Op("map 1 8 pages", c -> c.map(ONE, 0x10_0000, 0x4000_0000L, 8), m -> run(m, ONE, 0x10_0000, 0x4000_0000L, 8)),
            new Op("attach 1 C", c -> c.attach(ONE, List.of(C)), m -> m.owner.put(C, ONE)),
            new Op("attach 2 B", c -> c.attach(TWO, List.of(B)), m -> m.owner.put(B, TWO)),
            new Op("map 1 wide", c -> c.map(ONE, 0x4000_0000L, 0x1000_0000L, WIDE),
                    m -> run(m, ONE, 0x4000_0000L, 0x1000_0000L, WIDE)),
            new Op("unmap 1 8 pages", c -> c.unmap(ONE, 0x10_0000, 8), m -> m.runs.getOrDefault(ONE, new TreeMap<>()).remove(0x10_0000L)),
            new Op("map 2 2 pages", c -> c.map(TWO, 0x20_0000, 0x5000_0000L, 2), m -> run(m, TWO, 0x20_0000, 0x5000_0000L, 2)),
            new Op("detach C", c -> c.detach(List.of(C)), m -> m.owner.remove(C)));

    static void run(Model m, GuestId guest, long iova, long host, long pages) {
        m.runs.computeIfAbsent(guest, g -> new TreeMap<>()).put(iova, new long[] {host, pages});
    }

    /** One process on the state directory: two units on their table files, the core journaling there. */
    final class Process {
        final VtdUnit unit0;
        final VtdUnit unit1;
        final AssignmentManager core;

        Process(Path state, FaultyFiles files) {
            Storage storage = new Storage() {
                @Override
                public FileChannel open(Path file, OpenOption... options) throws IOException {
                    return files.open(file, options);
                }

                @Override
                public void move(Path from, Path to) throws IOException {
                    files.point("rename " + from.getFileName());
                    Storage.super.move(from, to);
                }
            };
            VtdUnit first = StandaloneUnit.createKept("dmar0", 0xfed9_0000L, CAP, ECAP, List.of(A, B), List.of(),
                    state.resolve("vtd"), files);
            try {
                unit1 = StandaloneUnit.createKept("dmar1", 0xfed9_1000L, CAP, ECAP, List.of(C), List.of(),
                        state.resolve("vtd"), files);
            } catch (RuntimeException e) {
                StandaloneUnit.close(first);
                throw e;
            }
            unit0 = first;
            DomainIdTable table = new DomainIdTable();
            FlushServiceImpl flush = new FlushServiceImpl(null, table, Fixture.silentLogger(),
                    FlushOrderingTest.timeout(5_000));
            core = new AssignmentManager(table, flush, Fixture.silentLogger(),
                    Fixture.config("per-unit", state.toString()), storage);
            for (VtdUnit u : List.of(unit0, unit1)) {
                flush.bindUnit(u);
                core.bindUnit(u);
            }
            core.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit", "service.id", 1L));
            core.bindStrategy(new iommu.alloc.global.GlobalStrategy(), Map.of("name", "global", "service.id", 2L));
            core.activate();
        }

        /** SIGKILL: nothing more is written, the table files are merely let go. */
        void kill() {
            StandaloneUnit.close(unit0);
            StandaloneUnit.close(unit1);
        }

        VtdUnit unitOf(PciAddress device) {
            return device.bus() < 0x10 ? unit0 : unit1;
        }
    }

    @Test
    void everyWritePointFailingFailsOnlyTheOperationUnderWayAndANewProcessKeepsEverythingAcknowledged() {
        FaultyFiles counting = new FaultyFiles(0, FaultyFiles.Mode.FULL);
        Process dry = new Process(dir.resolve("dry"), counting);
        OPS.forEach(op -> op.call().accept(dry.core));
        dry.kill();
        int points = counting.points();
        assertThat(counting.log()).as("write points of the journal and the table files")
                .contains("write journal.new", "force journal.new", "rename journal.new", "force dry", "write journal",
                        "force journal", "write vtd-0000-00000000fed90000.tables",
                        "write vtd-0000-00000000fed91000.tables");
        int refused = 0;
        for (FaultyFiles.Mode mode : List.of(FaultyFiles.Mode.FULL, FaultyFiles.Mode.ONCE)) {
            for (int k = 1; k <= points; k++) {
                Path state = dir.resolve(mode + "-" + k);
                String why = mode + " from write point " + k + " (" + counting.log().get(k - 1) + ")";
                Model acknowledged = new Model();
                refused += runUntilFull(state, new FaultyFiles(k, mode), acknowledged, why);
                // space is back: a new process on the directory
                Process next = new Process(state, new FaultyFiles(0, mode));
                assertThat(next.core.state().directory).as(why).isEqualTo(state.toString());
                assertThat(next.core.state().problems).as(why + ": journal and tables agree").isEmpty();
                assertAcknowledged(next, acknowledged, why);
                next.kill();
            }
        }
        assertThat(refused).as("operations refused for want of space").isGreaterThanOrEqualTo(points);
    }

    @Test
    void aStrategySwapTheJournalCannotTakeIsRolledBack() {
        FaultyFiles counting = new FaultyFiles(0, FaultyFiles.Mode.FULL);
        Process dry = new Process(dir.resolve("dry"), counting);
        attachTwoGuests(dry);
        dry.kill();
        Path state = dir.resolve("full");
        Process p = new Process(state, new FaultyFiles(counting.points() + 1, FaultyFiles.Mode.FULL));
        attachTwoGuests(p);
        String before = AssignmentManagerTest.snapshot(p.core);
        // under global guest 2 needs another id on dmar1 than guest 1's: a renumbering, which the journal must take
        p.core.modified(Fixture.config("global", state.toString()));
        assertThat(p.core.strategy()).contains("per-unit");
        assertThat(p.core.strategyProblem()).get().asString().contains("renumbering failed and was rolled back:"
                + " state directory " + state + ": no space left on its file system for the journal");
        assertThat(AssignmentManagerTest.snapshot(p.core)).isEqualTo(before);
        assertThat(p.core.audit()).isEmpty();
        p.kill();
        Process next = new Process(state, new FaultyFiles(0, FaultyFiles.Mode.FULL));
        assertThat(AssignmentManagerTest.snapshot(next.core)).isEqualTo(before);
        assertThat(next.core.state().problems).isEmpty();
        next.kill();
    }

    private static void attachTwoGuests(Process p) {
        p.core.attach(ONE, List.of(A));
        p.core.attach(TWO, List.of(B));
        p.core.attach(TWO, List.of(C)); // guest 2 holds id 2 on dmar0, 1 on dmar1: global renumbers it
    }

    /** Runs the operations on a process whose files fail as told; returns how many were refused. */
    private int runUntilFull(Path state, FaultyFiles files, Model acknowledged, String why) {
        Process p;
        try {
            p = new Process(state, files);
        } catch (IommuException | java.io.UncheckedIOException e) {
            // a unit's file could not be created: the launcher stops there, nothing was done
            assertThat(e.getMessage()).as(why).contains("no space left").contains(state.toString());
            return 1;
        }
        int refused = 0;
        if (p.core.state().directory == null) {
            assertThat(p.core.state().problems.get(0)).as(why).startsWith("state directory " + state
                    + ": no space left on its file system for ").doesNotContain("\n");
            p.kill();
            return 1;
        }
        for (Op op : OPS) {
            try {
                op.call().accept(p.core);
                op.effect().accept(acknowledged);
            } catch (IommuException e) {
                if (e.getMessage().contains("is not attached to any guest")) {
                    continue; // its attach was refused before: nothing to detach
                }
                refused++;
                assertThat(e.getMessage()).as(why + ": " + op.name()).contains("state directory " + state + ": no space"
                        + " left on its file system for ").doesNotContain("\n");
            }
            assertThat(p.core.audit()).as(why + " after " + op.name()).isEmpty();
            assertAcknowledged(p, acknowledged, why + " after " + op.name());
        }
        p.kill();
        return refused;
    }

    /** The core's records and every unit's DMA are what was acknowledged: its pages translate, none other does. */
    private static void assertAcknowledged(Process p, Model model, String why) {
        Map<PciAddress, GuestId> owners = new TreeMap<>();
        for (GuestDTO g : p.core.guests()) {
            g.devices.forEach(d -> owners.put(PciAddress.parse(d.bdf), GuestId.guest(g.guest)));
        }
        assertThat(owners).as(why).isEqualTo(model.owner);
        for (PciAddress device : List.of(A, B, C)) {
            GuestId guest = model.owner.get(device);
            VtdUnit unit = p.unitOf(device);
            List<long[]> probes = new ArrayList<>();
            for (var guestRuns : model.runs.entrySet()) {
                for (var run : guestRuns.getValue().entrySet()) {
                    long pages = run.getValue()[1];
                    for (long page = 0; page < pages; page += Math.max(1, pages / 64)) {
                        probes.add(new long[] {run.getKey() + (page << 12),
                                guestRuns.getKey().equals(guest) ? run.getValue()[0] + (page << 12) : -1});
                    }
                }
            }
            probes.add(new long[] {0x10_0000, -1}); // guest 1's first run, unmapped in the end
            for (long[] probe : probes) {
                var t = unit.translate(device, probe[0]);
                if (probe[1] >= 0) {
                    assertThat(t.hostAddress()).as("%s: %s IOVA 0x%x", why, device, probe[0]).hasValue(probe[1]);
                } else if (guest == null || !mapped(model, guest, probe[0])) {
                    assertThat(t.isFault()).as("%s: %s IOVA 0x%x translates", why, device, probe[0]).isTrue();
                }
            }
        }
    }

    private static boolean mapped(Model model, GuestId guest, long iova) {
        for (var run : model.runs.getOrDefault(guest, Map.of()).entrySet()) {
            if (iova >= run.getKey() && iova < run.getKey() + (run.getValue()[1] << 12)) {
                return true;
            }
        }
        return false;
    }
}
