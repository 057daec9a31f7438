package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import iommu.core.assign.DomainIdTable;
import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.Translation;
import iommu.flush.FlushServiceImpl;
import iommu.vtd.PciInventory;
import iommu.vtd.StandaloneUnit;
import iommu.vtd.VtdUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * DESIGN section 7, model-based: random sequences of attach, detach, map,
 * unmap, DMA, strategy swaps, a unit going away and coming back empty or on
 * its kept tables (its bundle restarted), a restart of the core on its journal, and the process killed (units and core
 * gone without a word) and started again on the units' kept table files and
 * the journal, run against the real core, flush
 * service, strategies and VT-d unit model, and checked after every step
 * against a small reference model (who owns which device, which guest maps
 * which page) and the audit. 20 sequences of 500 steps: 10,000 steps a run
 * ({@code mvn -pl iommu.core test -Dtest=ModelBasedTest -Dmodel.steps=5000}: 100,000);
 * jqwik shrinks a failing sequence to a short one.
  *
 * <p>Each unit also has two devices behind a PCIe-to-PCI bridge, one IOMMU
 * group seen as the bridge's secondary bus: attaches and detaches take the
 * group whole, a part of it is refused, and DMA is checked through the id the
 * unit receives. Sabotage: with the alias entries skipped
 * ({@code Operations.programAliases}) the run fails within a few hundred steps.
 *
 * <p>The units have ECAP.DT and three endpoints of each have ATS: their
 * context entries have TT=1 and their DMA goes through their device-TLBs (on
 * dmar1, without pass-through, the host's identity entries too), so a missing
 * device-TLB invalidation on unmap, detach or renumbering shows as a stale
 * translation (sabotage: with {@code FlushServiceImpl.deviceTlbAfter}
 * returning nothing the first sequence fails at step 87, and jqwik shrinks it
 * to the attach of a device whose identity entry the host had used on dmar1).
 */
class ModelBasedTest {

    static final long CAP = 0xd2008c40660462L;  // 256 ids, PSI, MAMV 18
    static final long ECAP = 0xf050daL;         // queued invalidation
    static final long ECAP_DT = ECAP | 0x4L;    // and device-TLBs
    static final int GUESTS = 10;
    static final int PAGES = 8;

    /** The platform under test, rebuilt as a restarted process would. */
    static final class Rig {
        final Path state;
        final Map<String, List<PciAddress>> devicesOf = new TreeMap<>();
        final Map<String, List<PciInventory.Bridge>> bridgesOf = new TreeMap<>();
        final java.util.Set<PciAddress> ats = new java.util.HashSet<>();
        final Map<String, VtdUnit> units = new TreeMap<>();
        FlushServiceImpl flush;
        AssignmentManager core;
        String strategy = "per-unit";

        Rig(Path state) {
            this.state = state;
            for (int u = 0; u < 3; u++) {
                List<PciAddress> devices = new ArrayList<>();
                for (int f = 0; f < 5; f++) {
                    devices.add(new PciAddress(0, 0x10 * (u + 1), 0, f));
                    if (f < 3) {
                        ats.add(devices.get(f));
                    }
                }
                // and two behind a PCIe-to-PCI bridge: one IOMMU group, seen as (its secondary bus, 00.0)
                int secondary = 0x10 * (u + 1) + 9;
                bridgesOf.put("dmar" + u, List.of(new PciInventory.Bridge(new PciAddress(0, secondary - 1, 0, 0),
                        secondary, secondary, PciInventory.BridgeKind.PCIE_TO_PCI)));
                devices.add(new PciAddress(0, secondary, 1, 0));
                devices.add(new PciAddress(0, secondary, 2, 0));
                devicesOf.put("dmar" + u, devices);
                units.put("dmar" + u, kept("dmar" + u));
            }
            start();
        }

        /** The unit on its table file under the state directory: inherited when the file holds tables. */
        VtdUnit kept(String id) {
            long base = 0xfed9_0000L + 0x1000L * Integer.parseInt(id.substring(4));
            // one unit without pass-through: its host domain is an identity-mapped table (Linux si_domain)
            long ecap = id.equals("dmar1") ? ECAP_DT & ~0x40L : ECAP_DT;
            return StandaloneUnit.createKept(id, base, CAP, ecap, devicesOf.get(id), bridgesOf.get(id), ats,
                    state.resolve("vtd"));
        }

        void start() {
            DomainIdTable table = new DomainIdTable();
            flush = new FlushServiceImpl(null, table, Fixture.silentLogger(), FlushOrderingTest.timeout(2000));
            core = new AssignmentManager(table, flush, Fixture.silentLogger(), Fixture.config(strategy, state.toString(),
                    "linux"));
            units.values().forEach(u -> {
                flush.bindUnit(u);
                core.bindUnit(u);
            });
            core.bindStrategy(new PerUnitStrategy(), Map.of("name", "per-unit", "service.id", 1L));
            core.bindStrategy(new GlobalStrategy(), Map.of("name", "global", "service.id", 2L));
            core.activate();
        }

        void restartCore() {
            core.deactivate();
            start();
        }

        /** The unit goes away and a unit with the same id comes back with empty tables. */
        void replaceUnit(String id) {
            VtdUnit old = units.get(id);
            core.unbindUnit(old);
            flush.unbindUnit(old);
            StandaloneUnit.close(old);
            try (var files = Files.list(state.resolve("vtd"))) {
                long base = 0xfed9_0000L + 0x1000L * Integer.parseInt(id.substring(4));
                for (Path f : files.filter(f -> f.getFileName().toString().contains(Long.toHexString(base))).toList()) {
                    Files.delete(f); // new hardware: its memory starts empty
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            VtdUnit fresh = kept(id);
            units.put(id, fresh);
            flush.bindUnit(fresh);
            core.bindUnit(fresh);
        }

        /** The unit's bundle restarts: it goes away and comes back on the tables its file kept. */
        void restartUnit(String id) {
            VtdUnit old = units.get(id);
            core.unbindUnit(old);
            flush.unbindUnit(old);
            StandaloneUnit.close(old);
            VtdUnit again = kept(id);
            units.put(id, again);
            flush.bindUnit(again);
            core.bindUnit(again);
        }

        /**
         * SIGKILL: nothing is deactivated or unbound; the units' table files
         * are merely let go. A new process brings the units up on the files
         * and a new core on the journal.
         */
        void killProcess() {
            units.values().forEach(StandaloneUnit::close);
            units.replaceAll((id, old) -> kept(id));
            start();
        }

        List<PciAddress> allDevices() {
            return devicesOf.values().stream().flatMap(List::stream).toList();
        }

        VtdUnit unitOf(PciAddress device) {
            return units.get("dmar" + ((device.bus() & 0xf0) / 0x10 - 1));
        }
    }

    /** The members of the device's IOMMU group, as the core lists them. */
    static List<PciAddress> groupOf(Rig rig, PciAddress device) {
        return rig.core.groups().stream().filter(g -> g.devices.contains(device.toString())).findFirst()
                .map(g -> g.devices.stream().map(PciAddress::parse).toList()).orElse(List.of(device));
    }

    /** Steps per sequence: 500 in CI (20 sequences, 10,000 steps); {@code -Dmodel.steps=N} for longer runs. */
    static final int STEPS = Integer.getInteger("model.steps", 500);

    @Provide
    Arbitrary<List<Integer>> steps() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE).list().ofSize(STEPS);
    }

    @Property(tries = 20)
    void everyStepKeepsTheInvariants(@ForAll("steps") List<Integer> steps) throws Exception {
        Path state = Files.createTempDirectory("iommu-model");
        Rig rig = new Rig(state);
        List<PciAddress> devices = rig.allDevices();
        Map<PciAddress, Integer> owner = new TreeMap<>();
        Map<Integer, Map<Long, Long>> pages = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            int r = steps.get(i);
            int op = r % 100;
            PciAddress device = devices.get((r / 100) % devices.size());
            int guest = 1 + (r / 10_000) % GUESTS;
            long page = (r / 1_000_000) % PAGES;
            String where = "step " + i + " (" + r + ")";
            List<PciAddress> group = groupOf(rig, device);
            if (op < 30) {
                // a group is attached and detached whole
                if (owner.containsKey(device)) {
                    rig.core.detach(group);
                    group.forEach(owner::remove);
                } else {
                    rig.core.attach(GuestId.guest(guest), group);
                    group.forEach(d -> owner.put(d, guest));
                }
            } else if (op < 60) {
                Map<Long, Long> map = pages.computeIfAbsent(guest, g -> new HashMap<>());
                if (map.containsKey(page)) {
                    rig.core.unmap(GuestId.guest(guest), page << 12, 1);
                    map.remove(page);
                } else {
                    long host = 0x200000L + guest * 0x100L + page;
                    rig.core.map(GuestId.guest(guest), page << 12, host << 12, 1);
                    map.put(page, host);
                }
            } else if (op < 64) {
                rig.strategy = rig.strategy.equals("global") ? "per-unit" : "global";
                rig.core.modified(Fixture.config(rig.strategy, state.toString(), "linux"));
                assertThat(rig.core.strategyProblem()).as(where).isEmpty();
            } else if (op < 65) {
                rig.replaceUnit("dmar" + (r / 100) % 3);
            } else if (op < 66) {
                rig.restartUnit("dmar" + (r / 100) % 3);
            } else if (op < 67) {
                rig.restartCore();
            } else if (op < 69) {
                rig.killProcess();
                assertThat(rig.units.values()).as(where).allMatch(VtdUnit::inheritedTables);
                // every operation was acknowledged: the tables and the journal agree, nothing is written again
                assertThat(rig.core.state().problems).as(where).isEmpty();
                assertThat(rig.core.state().restored).as(where).isZero();
            } else {
                // an operation that must be refused and change nothing
                String before = AssignmentManagerTest.snapshot(rig.core);
                try {
                    if (owner.containsKey(device)) {
                        rig.core.attach(GuestId.guest(guest), List.of(device));
                    } else if (group.size() > 1 && (r / 7) % 2 == 0) {
                        rig.core.attach(GuestId.guest(guest), List.of(device)); // part of a group
                    } else {
                        rig.core.detach(List.of(device));
                    }
                    throw new AssertionError(where + ": a refused operation succeeded");
                } catch (IommuException expected) {
                    assertThat(AssignmentManagerTest.snapshot(rig.core)).as(where).isEqualTo(before);
                }
            }
            // the platform agrees with the reference model...
            Map<PciAddress, Integer> actual = new TreeMap<>();
            rig.core.devices().stream().filter(d -> d.guest != null).forEach(d -> actual.put(PciAddress.parse(d.bdf), d.guest));
            assertThat(actual).as(where).isEqualTo(owner);
            // ...with itself (map, bitmaps, context entries; one id per guest under global)...
            assertThat(rig.core.audit()).as(where).isEmpty();
            // ...and DMA reaches only the current owner's pages
            for (PciAddress d : devices) {
                Integer who = owner.get(d);
                for (long p = 0; p < PAGES; p += 3) {
                    // a host-owned device is in the host domain: its DMA reaches the identity address
                    Long expected = who == null ? Long.valueOf(p) : pages.getOrDefault(who, Map.of()).get(p);
                    Translation t = rig.unitOf(d).translate(d, p << 12);
                    if (expected == null) {
                        assertThat(t.isFault()).as("%s: %s page %d must fault", where, d, p).isTrue();
                    } else {
                        assertThat(t.hostAddress()).as("%s: %s page %d", where, d, p).hasValue(expected << 12);
                    }
                }
            }
        }
    }
}
