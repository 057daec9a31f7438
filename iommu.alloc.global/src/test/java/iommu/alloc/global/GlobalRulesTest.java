package iommu.alloc.global;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.spi.Assignment;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

/** The strategy's own rule for the platform's audit (check) and its answer to the capacity planner (admits). */
class GlobalRulesTest {

    private static UnitDescriptor unit(String id, int dids) {
        return new UnitDescriptor(id, dids, Set.of(DomainId.of(0)));
    }

    private final GlobalStrategy strategy = new GlobalStrategy();
    private final List<UnitDescriptor> units = List.of(unit("dmar0", 256), unit("dmar1", 256), unit("dmar2", 256));

    @Test
    void assignmentsItHandedOutKeepTheRule() {
        DomainIdAllocator a = strategy.open(units, List.of());
        GuestId g1 = GuestId.guest(1);
        GuestId g2 = GuestId.guest(2);
        List<Assignment> held = List.of(
                new Assignment(g1, "dmar0", a.allocate(g1, "dmar0")),
                new Assignment(g1, "dmar2", a.allocate(g1, "dmar2")),
                new Assignment(g2, "dmar1", a.allocate(g2, "dmar1")));
        assertThat(a.check(held)).isEmpty();
        assertThat(a.check(List.of())).isEmpty();
    }

    /** Sabotage: a guest given a second id on another unit, as a broken platform or journal could leave it. */
    @Test
    void findsAGuestWithTwoIdsAndNamesThemInOrder() {
        DomainIdAllocator a = strategy.open(units, List.of());
        GuestId g1 = GuestId.guest(1);
        GuestId g2 = GuestId.guest(2);
        DomainId did = a.allocate(g1, "dmar0");
        DomainId other = a.allocate(g2, "dmar1");
        List<Assignment> sabotaged = List.of(
                new Assignment(g1, "dmar2", DomainId.of(9)),
                new Assignment(g1, "dmar0", did),
                new Assignment(g2, "dmar1", other));
        assertThat(a.check(sabotaged)).containsExactly("guest " + g1 + " holds domain ids [" + did + ", "
                + DomainId.of(9) + "] on different units; strategy global gives one id on every unit");
    }

    @Test
    void oneLinePerGuestBreakingTheRuleInGuestOrder() {
        DomainIdAllocator a = strategy.open(units, List.of());
        List<Assignment> sabotaged = List.of(
                new Assignment(GuestId.guest(5), "dmar0", DomainId.of(3)),
                new Assignment(GuestId.guest(5), "dmar1", DomainId.of(4)),
                new Assignment(GuestId.guest(5), "dmar2", DomainId.of(3)),
                new Assignment(GuestId.guest(2), "dmar0", DomainId.of(7)),
                new Assignment(GuestId.guest(2), "dmar1", DomainId.of(6)),
                new Assignment(GuestId.guest(3), "dmar1", DomainId.of(8)));
        List<String> problems = a.check(sabotaged);
        assertThat(problems).hasSize(2);
        assertThat(problems.get(0)).startsWith("guest " + GuestId.guest(2) + " holds domain ids ["
                + DomainId.of(6) + ", " + DomainId.of(7) + "]");
        assertThat(problems.get(1)).startsWith("guest " + GuestId.guest(5) + " holds domain ids ["
                + DomainId.of(3) + ", " + DomainId.of(4) + "]");
    }

    @Test
    void admitsTheSharedIdsBoundedByTheDevices() {
        // 255 shared ids; devices 600 and 10 make floor(600/2) + floor(10/2) = 305 guests of two
        List<UnitLoad> loads = List.of(new UnitLoad(unit("dmar0", 256), 600), new UnitLoad(unit("dmar1", 65536), 10));
        CapacityEstimate two = strategy.admits(loads, 2);
        assertThat(two.admits()).isEqualTo(255);
        assertThat(two.model()).isEqualTo("min(shared ids 255, sum over units of floor(groups / 2) = 305)");

        CapacityEstimate three = strategy.admits(loads, 300);
        assertThat(three.admits()).isEqualTo(2);
        assertThat(three.model()).isEqualTo("min(shared ids 255, sum over units of floor(groups / 300) = 2)");
    }

    @Test
    void admitsNothingWithoutDevices() {
        assertThat(strategy.admits(List.of(new UnitLoad(unit("dmar0", 256), 0)), 1).admits()).isZero();
    }

    @Test
    void refusesFewerThanOneDevicePerGuest() {
        List<UnitLoad> loads = List.of(new UnitLoad(unit("dmar0", 256), 4));
        assertThatThrownBy(() -> strategy.admits(loads, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("devices per guest 0 out of range: expected 1 or more");
    }
}
