package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.core.assign.DomainIdTable;
import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.GuestDTO;
import iommu.api.spi.DeviceContext;

class AssignmentManagerTest {

    final Fixture f = new Fixture();
    final TestUnit dmar0 = new TestUnit("dmar0", 256, f.events).withDevices(0x10, 4);
    final TestUnit dmar1 = new TestUnit("dmar1", 256, f.events).withDevices(0x20, 4);
    final PciAddress a0 = dmar0.deviceList().get(0);
    final PciAddress a1 = dmar0.deviceList().get(1);
    final PciAddress b0 = dmar1.deviceList().get(0);

    static GuestId g(int id) {
        return GuestId.guest(id);
    }

    AssignmentManager perUnit() {
        return f.manager("per-unit", List.of(dmar0, dmar1), new PerUnitStrategy(), new GlobalStrategy());
    }

    @Test
    void aGuestGetsOneDomainIdPerUnitSharedByItsDevicesThere() {
        AssignmentManager m = perUnit();
        GuestDTO guest = m.attach(g(5), List.of(a0, a1, b0));
        assertThat(guest.devices).extracting(d -> d.bdf + " " + d.unit + " " + d.did)
                .containsExactly(a0 + " dmar0 1", a1 + " dmar0 1", b0 + " dmar1 1");
        assertThat(dmar0.context(a1)).contains(new DeviceContext(DomainId.of(1), g(5)));
        assertThat(f.table.domainsOf(g(5))).isEqualTo(Map.of("dmar0", DomainId.of(1), "dmar1", DomainId.of(1)));
        assertThat(f.table.guest("dmar1", DomainId.of(1))).contains(g(5));
        assertThat(m.attach(g(6), List.of(dmar0.deviceList().get(2))).devices.get(0).did).isEqualTo(2);
    }

    @Test
    void theIdIsReleasedOnlyAfterTheLastDeviceLeftAndItsInvalidationCompleted() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0, a1));
        m.detach(List.of(a0));
        assertThat(f.table.domainId(g(5), "dmar0")).contains(DomainId.of(1));
        f.events.clear();
        m.detach(List.of(a1));
        assertThat(f.events).containsExactly("dmar0 clear " + a1, "dmar0 flush " + a1 + " did 1");
        assertThat(f.table.domainsOf(g(5))).isEmpty();
        assertThat(m.guests()).isEmpty();
        // the id is free again: the next guest gets it
        assertThat(m.attach(g(6), List.of(a0)).devices.get(0).did).isEqualTo(1);
    }

    @Test
    void perUnitHoldsEveryGuestWhereGlobalStopsAtTheSmallestUnit() {
        Fixture big = new Fixture();
        List<TestUnit> units = List.of(new TestUnit("dmar0", 256, big.events).withDevices(0x10, 128),
                new TestUnit("dmar1", 256, big.events).withDevices(0x20, 128),
                new TestUnit("dmar2", 256, big.events).withDevices(0x30, 128),
                new TestUnit("dmar3", 256, big.events));
        AssignmentManager m = big.manager("global", units, new PerUnitStrategy(), new GlobalStrategy());
        List<PciAddress> vfs = units.stream().flatMap(u -> u.deviceList().stream()).toList();
        assertThat(vfs).hasSize(384);
        for (int i = 0; i < 255; i++) {
            m.attach(g(i + 1), List.of(vfs.get(i)));
        }
        assertThatThrownBy(() -> m.attach(g(256), List.of(vfs.get(255))))
                .isInstanceOf(DomainIdsExhaustedException.class)
                .hasMessageContaining("255 usable ids of the global space shared by 4 units");
        assertThat(m.guests()).hasSize(255);

        Fixture big2 = new Fixture();
        List<TestUnit> units2 = List.of(new TestUnit("dmar0", 256, big2.events).withDevices(0x10, 128),
                new TestUnit("dmar1", 256, big2.events).withDevices(0x20, 128),
                new TestUnit("dmar2", 256, big2.events).withDevices(0x30, 128),
                new TestUnit("dmar3", 256, big2.events));
        AssignmentManager m2 = big2.manager("per-unit", units2, new PerUnitStrategy(), new GlobalStrategy());
        List<PciAddress> vfs2 = units2.stream().flatMap(u -> u.deviceList().stream()).toList();
        for (int i = 0; i < 384; i++) {
            m2.attach(g(i + 1), List.of(vfs2.get(i)));
        }
        assertThat(m2.guests()).hasSize(384);
        assertThat(m2.units()).extracting(u -> u.usedDomainIds).containsExactly(128, 128, 128, 0);
    }

    @Test
    void badInputIsOneClearLineAndChangesNothing() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0));
        String before = snapshot(m);
        PciAddress unknown = PciAddress.parse("0000:99:00.0");
        assertThatThrownBy(() -> m.attach(GuestId.HOST, List.of(a1))).hasMessageContaining("guest 0 is the host");
        assertThatThrownBy(() -> m.attach(g(6), List.of(unknown))).hasMessageStartingWith("unknown device 0000:99:00.0");
        assertThatThrownBy(() -> m.attach(g(6), List.of(a0))).hasMessage("device " + a0 + " is attached to guest 5: detach it first");
        assertThatThrownBy(() -> m.attach(g(5), List.of(a0))).hasMessage("device " + a0 + " is already attached to guest 5");
        assertThatThrownBy(() -> m.attach(g(6), List.of(a1, a1))).hasMessage("device " + a1 + " is given twice");
        assertThatThrownBy(() -> m.attach(g(6), List.of())).hasMessageContaining("no device given");
        // all or nothing: a1 would be fine, the unknown device spoils the call
        assertThatThrownBy(() -> m.attach(g(6), List.of(a1, unknown))).hasMessageStartingWith("unknown device");
        assertThatThrownBy(() -> m.detach(List.of(a1))).hasMessage("device " + a1 + " is not attached to any guest");
        assertThatThrownBy(() -> m.detach(List.of(a0, unknown))).hasMessageStartingWith("unknown device");
        assertThat(snapshot(m)).isEqualTo(before);
        assertThat(dmar0.contexts).containsOnlyKeys(a0);
    }

    @Test
    void allocationsReleasesAndFailuresAreCountedPerUnit() {
        Fixture small = new Fixture();
        TestUnit tiny = new TestUnit("tiny", 4, small.events).withDevices(0x40, 4);
        AssignmentManager m = small.manager("per-unit", List.of(tiny), new PerUnitStrategy());
        for (int g = 1; g <= 3; g++) {
            m.attach(g(g), List.of(tiny.deviceList().get(g - 1)));
        }
        assertThatThrownBy(() -> m.attach(g(9), List.of(tiny.deviceList().get(3)))).isInstanceOf(DomainIdsExhaustedException.class);
        m.detach(List.of(tiny.deviceList().get(0)));
        assertThat(m.allocationCounts()).isEqualTo(Map.of("tiny",
                Map.of("allocations", 3L, "releases", 1L, "failures", 1L, "quarantined", 0L)));
    }

    @Test
    void aDeviceWithReservedMemoryNeedsTheOverride() {
        AssignmentManager m = perUnit();
        dmar0.reservedMemory.add(a1);
        assertThatThrownBy(() -> m.attach(g(5), List.of(a0, a1)))
                .hasMessageContaining("device " + a1 + " has firmware-reserved memory (RMRR/IVMD)");
        assertThat(m.guests()).isEmpty();
        assertThat(m.devices()).filteredOn(d -> d.bdf.equals(a1.toString())).singleElement()
                .satisfies(d -> assertThat(d.reservedMemory).isTrue());
        assertThat(m.attach(g(5), List.of(a0, a1), true).devices).hasSize(2);
    }

    @Test
    void exhaustionNamesTheUnitAndRollsBackTheWholeCall() {
        Fixture small = new Fixture();
        TestUnit tiny = new TestUnit("tiny", 16, small.events).withDevices(0x40, 20);
        TestUnit other = new TestUnit("other", 256, small.events).withDevices(0x50, 2);
        AssignmentManager m = small.manager("per-unit", List.of(tiny, other), new PerUnitStrategy());
        for (int i = 0; i < 15; i++) {
            m.attach(g(i + 1), List.of(tiny.deviceList().get(i)));
        }
        String before = snapshot(m);
        assertThatThrownBy(() -> m.attach(g(100), List.of(other.deviceList().get(0), tiny.deviceList().get(15))))
                .isInstanceOf(DomainIdsExhaustedException.class)
                .hasMessageContaining("unit tiny has no free domain id: all 15 usable ids of its 16");
        assertThat(snapshot(m)).isEqualTo(before);
        assertThat(other.contexts).isEmpty();
        // the id taken on 'other' went back: the next guest there gets id 1
        assertThat(m.attach(g(101), List.of(other.deviceList().get(1))).devices.get(0).did).isEqualTo(1);
    }

    @Test
    void aFailedInvalidationFailsTheDetachAndChangesNothing() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0, b0));
        String before = snapshot(m);
        f.flush.failing = true;
        assertThatThrownBy(() -> m.detach(List.of(a0, b0))).hasMessageStartingWith("detach failed, nothing changed:");
        f.flush.failing = false;
        assertThat(snapshot(m)).isEqualTo(before);
        assertThat(dmar0.context(a0)).contains(new DeviceContext(DomainId.of(1), g(5)));
        assertThat(dmar1.context(b0)).contains(new DeviceContext(DomainId.of(1), g(5)));
    }

    @Test
    void anIdWhoseInvalidationFailedStaysOutOfUseUntilARetrySucceeds() {
        Fixture small = new Fixture();
        TestUnit tiny = new TestUnit("tiny", 16, small.events).withDevices(0x40, 4);
        AssignmentManager m = small.manager("per-unit", List.of(tiny), new PerUnitStrategy());
        // the attach fails in its own flush; undoing it cannot invalidate either: id 1 is quarantined
        small.flush.failing = true;
        assertThatThrownBy(() -> m.attach(g(5), List.of(tiny.deviceList().get(0))))
                .hasMessageContaining("injected");
        assertThat(tiny.contexts).isEmpty();
        small.flush.failing = false;
        // the next operation retries the quarantined id first, then it is free again
        assertThat(m.attach(g(6), List.of(tiny.deviceList().get(1))).devices.get(0).did).isEqualTo(1);
    }

    @Test
    void aRestartedManagerRebuildsEverythingFromTheUnitsContextEntries() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0, b0));
        m.attach(g(7), List.of(a1));
        String before = snapshot(m);
        m.deactivate();
        Fixture again = new Fixture();
        AssignmentManager restarted = again.manager("per-unit", List.of(dmar0, dmar1), new PerUnitStrategy());
        assertThat(snapshot(restarted)).isEqualTo(before);
        // and the strategy knows those ids are taken
        assertThat(restarted.attach(g(8), List.of(dmar0.deviceList().get(2))).devices.get(0).did).isEqualTo(3);
    }

    @Test
    void aUnitThatComesBackEmptyGetsItsContextEntriesWrittenAgain() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0));
        m.unbindUnit(dmar0);
        assertThat(m.guests()).hasSize(1);
        TestUnit reborn = new TestUnit("dmar0", 256, f.events).withDevices(0x10, 4);
        m.bindUnit(reborn);
        assertThat(reborn.context(a0)).contains(new DeviceContext(DomainId.of(1), g(5)));
        assertThat(m.attach(g(6), List.of(a1)).devices.get(0).did).isEqualTo(2);
    }

    @Test
    void withoutABoundStrategyAttachFailsClearlyAndAssignmentsStay() {
        PerUnitStrategy strategy = new PerUnitStrategy();
        AssignmentManager m = f.manager("per-unit", List.of(dmar0, dmar1), strategy);
        m.attach(g(5), List.of(a0));
        m.unbindStrategy(strategy);
        assertThat(m.strategy()).isEmpty();
        assertThatThrownBy(() -> m.attach(g(6), List.of(a1)))
                .hasMessage("no allocation strategy bound: strategy 'per-unit' is not available: present are []");
        m.detach(List.of(a0)); // detach still works
        f.bind(m, new PerUnitStrategy());
        assertThat(m.strategy()).contains("per-unit");
        assertThat(m.attach(g(6), List.of(a1)).devices.get(0).did).isEqualTo(1);
    }

    @Test
    void swappingToGlobalRenumbersSoEachGuestHasOneIdEverywhere() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(b0));           // dmar1: 1
        m.attach(g(6), List.of(a0));           // dmar0: 1
        m.attach(g(6), List.of(dmar1.deviceList().get(1))); // dmar1: 2
        List<iommu.api.RenumberingProgress> told = new java.util.ArrayList<>();
        m.bindListener(told::add);
        m.bindListener(p -> {
            throw new IllegalStateException("a listener that fails is logged, and the swap goes on");
        });
        m.modified(Fixture.config("global"));
        assertThat(m.strategyProblem()).isEmpty();
        assertThat(told).extracting(iommu.api.RenumberingProgress::strategy).containsOnly("global");
        assertThat(told).extracting(iommu.api.RenumberingProgress::written).first().isEqualTo(0);
        assertThat(told.get(told.size() - 1).done()).isTrue();
        assertThat(m.strategy()).contains("global");
        DomainId six = f.table.domainId(g(6), "dmar0").orElseThrow();
        assertThat(f.table.domainId(g(6), "dmar1")).contains(six);
        assertThat(f.table.domainId(g(5), "dmar1")).isNotEqualTo(java.util.Optional.of(six));
        // the unit tables agree with the map
        assertThat(dmar0.context(a0).orElseThrow().domainId()).isEqualTo(six);
        assertThat(dmar1.context(dmar1.deviceList().get(1)).orElseThrow().domainId()).isEqualTo(six);
        assertThat(dmar1.context(b0).orElseThrow().domainId()).isEqualTo(f.table.domainId(g(5), "dmar1").orElseThrow());
        // and back to per-unit: adopted as is
        f.events.clear();
        m.modified(Fixture.config("per-unit"));
        assertThat(m.strategy()).contains("per-unit");
        assertThat(f.events).isEmpty();
    }

    @Test
    void aSwapThatCannotFitIsRefusedAndTheOldStrategyStays() {
        Fixture small = new Fixture();
        TestUnit u0 = new TestUnit("u0", 16, small.events).withDevices(0x40, 15);
        TestUnit u1 = new TestUnit("u1", 16, small.events).withDevices(0x50, 15);
        AssignmentManager m = small.manager("per-unit", List.of(u0, u1), new PerUnitStrategy(), new GlobalStrategy());
        for (int i = 0; i < 15; i++) {
            m.attach(g(i + 1), List.of(u0.deviceList().get(i)));
            m.attach(g(i + 100), List.of(u1.deviceList().get(i)));
        }
        String before = snapshot(m);
        m.modified(Fixture.config("global"));
        assertThat(m.strategy()).contains("per-unit");
        assertThat(m.requestedStrategy()).isEqualTo("global");
        assertThat(m.strategyProblem()).get().asString()
                .contains("30 guests hold domain ids but the shared space has 15 usable ids")
                .contains("'per-unit' stays bound");
        assertThat(snapshot(m)).isEqualTo(before);
    }

    @Test
    void anUnknownStrategyNameLeavesTheBoundOne() {
        AssignmentManager m = perUnit();
        m.modified(Fixture.config("packed"));
        assertThat(m.strategy()).contains("per-unit");
        assertThat(m.strategyProblem()).get().asString()
                .isEqualTo("strategy 'packed' is not available: present are [global, per-unit]; 'per-unit' stays bound");
    }

    @Test
    void theAuditAgreesAfterWorkAndNamesWhatABrokenUnitDisagreesOn() {
        AssignmentManager m = perUnit();
        m.attach(g(5), List.of(a0, b0));
        m.attach(g(6), List.of(a1));
        m.detach(List.of(b0));
        assertThat(m.audit()).isEmpty();
        // the hardware loses an entry behind the platform's back
        dmar0.contexts.remove(a1);
        assertThat(m.audit()).containsExactly("device " + a1 + " of guest 6 on unit dmar0: the unit's context entry is "
                + "not present; expected domain id 2");
        // and grows one nobody recorded
        dmar0.contexts.put(dmar0.deviceList().get(3), new DeviceContext(DomainId.of(9), g(7)));
        assertThat(m.audit()).hasSize(2).last().asString().contains("that no assignment records");
    }

    @Test
    void theTableMatchesGuestsByValueNotByInstance() {
        DomainIdTable table = new DomainIdTable();
        table.put(new GuestId(5), "dmar0", DomainId.of(3));
        table.remove(new GuestId(5), "dmar0", DomainId.of(3));
        assertThat(table.guest("dmar0", DomainId.of(3))).isEmpty();
        assertThat(table.usedOn("dmar0")).isZero();
        table.put(new GuestId(5), "dmar0", DomainId.of(3));
        assertThatThrownBy(() -> table.remove(new GuestId(6), "dmar0", DomainId.of(3)))
                .hasMessageContaining("is not guest 6's");
    }

    static String snapshot(AssignmentManager m) {
        StringBuilder sb = new StringBuilder();
        m.guests().forEach(gd -> gd.devices.forEach(d -> sb.append(gd.guest).append(' ').append(d.bdf).append(' ')
                .append(d.unit).append(' ').append(d.did).append('\n')));
        m.units().forEach(u -> sb.append(u.id).append(" used ").append(u.usedDomainIds).append('\n'));
        return sb.toString();
    }
}
