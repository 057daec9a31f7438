package iommu.alloc.perunit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;

class PerUnitAllocatorTest {

    static UnitDescriptor unit(String id, int dids) {
        return new UnitDescriptor(id, dids, Set.of(DomainId.of(0)));
    }

    private final PerUnitStrategy strategy = new PerUnitStrategy();

    @Test
    void eachUnitHasItsOwnSpaceAndNeverHandsOutTheReservedId() {
        DomainIdAllocator a = strategy.open(List.of(unit("dmar0", 256), unit("dmar1", 256)), List.of());
        assertThat(a.allocate(GuestId.guest(1), "dmar0")).isEqualTo(DomainId.of(1));
        assertThat(a.allocate(GuestId.guest(2), "dmar1")).isEqualTo(DomainId.of(1));
        assertThat(a.allocate(GuestId.guest(2), "dmar0")).isEqualTo(DomainId.of(2));
        assertThat(a.inUse("dmar0").stream().toArray()).containsExactly(1, 2);
        assertThat(a.free("dmar0")).isEqualTo(253);
    }

    @Test
    void exhaustionNamesTheUnitAndItsCapacityAndChangesNothing() {
        DomainIdAllocator a = strategy.open(List.of(unit("dmar0", 16)), List.of());
        for (int g = 1; g <= 15; g++) {
            a.allocate(GuestId.guest(g), "dmar0");
        }
        assertThatThrownBy(() -> a.allocate(GuestId.guest(16), "dmar0"))
                .isInstanceOf(DomainIdsExhaustedException.class)
                .hasMessageContaining("unit dmar0").hasMessageContaining("15 usable ids of its 16");
        assertThat(a.free("dmar0")).isZero();
        a.release(GuestId.guest(7), "dmar0", DomainId.of(7));
        assertThat(a.allocate(GuestId.guest(16), "dmar0")).isEqualTo(DomainId.of(7));
    }

    @Test
    void capacityIsTheSumOfUsableIds() {
        assertThat(strategy.capacity(List.of(unit("a", 256), unit("b", 256), unit("c", 65536)))).isEqualTo(255 + 255 + 65535);
    }

    @Test
    void adoptsValidAssignmentsAsTheyAre() {
        List<Assignment> current = List.of(
                new Assignment(GuestId.guest(1), "dmar0", DomainId.of(5)),
                new Assignment(GuestId.guest(1), "dmar1", DomainId.of(9)),
                new Assignment(GuestId.guest(2), "dmar0", DomainId.of(9)));
        DomainIdAllocator a = strategy.open(List.of(unit("dmar0", 256), unit("dmar1", 256)), current);
        assertThat(a.renumbering()).isEmpty();
        assertThat(a.inUse("dmar0").stream().toArray()).containsExactly(5, 9);
        assertThat(a.allocate(GuestId.guest(3), "dmar0")).isEqualTo(DomainId.of(1));
    }

    @Test
    void renumbersOnlyIdsTheUnitCannotHold() {
        Assignment reserved = new Assignment(GuestId.guest(1), "dmar0", DomainId.of(0));
        Assignment tooLarge = new Assignment(GuestId.guest(2), "dmar0", DomainId.of(300));
        Assignment fine = new Assignment(GuestId.guest(3), "dmar0", DomainId.of(1));
        DomainIdAllocator a = strategy.open(List.of(unit("dmar0", 256)), List.of(reserved, tooLarge, fine));
        assertThat(a.renumbering()).isEqualTo(Map.of(reserved, DomainId.of(2), tooLarge, DomainId.of(3)));
    }
}
