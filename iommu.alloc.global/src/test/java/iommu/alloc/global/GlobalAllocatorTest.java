package iommu.alloc.global;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.StrategyRefusedException;
import iommu.api.spi.UnitDescriptor;

class GlobalAllocatorTest {

    static UnitDescriptor unit(String id, int dids) {
        return new UnitDescriptor(id, dids, Set.of(DomainId.of(0)));
    }

    private final GlobalStrategy strategy = new GlobalStrategy();
    private final List<UnitDescriptor> fourUnits = List.of(unit("dmar0", 256), unit("dmar1", 256), unit("dmar2", 256),
            unit("dmar3", 256));

    @Test
    void aGuestHasTheSameIdOnEveryUnit() {
        DomainIdAllocator a = strategy.open(fourUnits, List.of());
        DomainId first = a.allocate(GuestId.guest(7), "dmar0");
        assertThat(a.allocate(GuestId.guest(7), "dmar3")).isEqualTo(first);
        assertThat(a.allocate(GuestId.guest(8), "dmar3")).isNotEqualTo(first);
        assertThat(a.inUse("dmar3").cardinality()).isEqualTo(2);
        assertThat(a.inUse("dmar1").cardinality()).isZero();
    }

    @Test
    void theIdReturnsOnlyWhenTheGuestLeftItsLastUnit() {
        DomainIdAllocator a = strategy.open(fourUnits, List.of());
        GuestId g = GuestId.guest(1);
        DomainId did = a.allocate(g, "dmar0");
        a.allocate(g, "dmar1");
        a.release(g, "dmar0", did);
        assertThat(a.allocate(GuestId.guest(2), "dmar0")).isNotEqualTo(did);
        a.release(g, "dmar1", did);
        assertThat(a.allocate(GuestId.guest(3), "dmar2")).isEqualTo(did);
    }

    @Test
    void fourUnitsOf256HoldExactly255Guests() {
        DomainIdAllocator a = strategy.open(fourUnits, List.of());
        for (int g = 1; g <= 255; g++) {
            a.allocate(GuestId.guest(g), "dmar" + (g % 4));
        }
        assertThatThrownBy(() -> a.allocate(GuestId.guest(256), "dmar1"))
                .isInstanceOf(DomainIdsExhaustedException.class)
                .hasMessageContaining("all 255 usable ids of the global space shared by 4 units");
        assertThat(strategy.capacity(fourUnits)).isEqualTo(255);
    }

    @Test
    void theSpaceIsSizedByTheSmallestUnit() {
        assertThat(strategy.capacity(List.of(unit("big", 65536), unit("small", 256)))).isEqualTo(255);
    }

    @Test
    void renumbersPerUnitAssignmentsToOneIdPerGuest() {
        // per-unit numbering: guests 1 and 2 both hold id 1, on different units; guest 1 holds 1 and 2.
        Assignment g1a = new Assignment(GuestId.guest(1), "dmar0", DomainId.of(1));
        Assignment g1b = new Assignment(GuestId.guest(1), "dmar1", DomainId.of(2));
        Assignment g2 = new Assignment(GuestId.guest(2), "dmar2", DomainId.of(1));
        DomainIdAllocator a = strategy.open(fourUnits, List.of(g1a, g1b, g2));
        // one change suffices: guest 2 keeps id 1, guest 1 moves to 2 on dmar0 (it already has 2 on dmar1)
        assertThat(a.renumbering()).containsOnlyKeys(g1a);
        DomainId g1 = a.renumbering().getOrDefault(g1a, g1a.domainId());
        DomainId g1other = a.renumbering().getOrDefault(g1b, g1b.domainId());
        DomainId g2id = a.renumbering().getOrDefault(g2, g2.domainId());
        assertThat(g1).isEqualTo(g1other).isNotEqualTo(g2id);
        assertThat(List.of(g1, g2id)).doesNotContain(DomainId.of(0));
    }

    @Test
    void adoptsAssignmentsThatAlreadyFollowTheRule() {
        List<Assignment> current = List.of(new Assignment(GuestId.guest(1), "dmar0", DomainId.of(4)),
                new Assignment(GuestId.guest(1), "dmar1", DomainId.of(4)),
                new Assignment(GuestId.guest(2), "dmar1", DomainId.of(5)));
        DomainIdAllocator a = strategy.open(fourUnits, current);
        assertThat(a.renumbering()).isEmpty();
        assertThat(a.allocate(GuestId.guest(1), "dmar2")).isEqualTo(DomainId.of(4));
    }

    @Test
    void refusesMoreGuestsThanTheSharedSpaceHolds() {
        List<Assignment> current = new ArrayList<>();
        for (int g = 1; g <= 300; g++) {
            current.add(new Assignment(GuestId.guest(g), "dmar" + (g % 2), DomainId.of(1 + g / 2)));
        }
        assertThatThrownBy(() -> strategy.open(fourUnits, current))
                .isInstanceOf(StrategyRefusedException.class)
                .hasMessageContaining("300 guests").hasMessageContaining("255 usable ids");
    }
}
