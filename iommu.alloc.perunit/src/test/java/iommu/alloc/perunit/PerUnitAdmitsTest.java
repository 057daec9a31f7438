package iommu.alloc.perunit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.spi.CapacityEstimate;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.UnitLoad;

/** The strategy's answer to the capacity planner: each unit admits on its own ids and devices. */
class PerUnitAdmitsTest {

    private static UnitDescriptor unit(String id, int dids) {
        return new UnitDescriptor(id, dids, Set.of(DomainId.of(0)));
    }

    private final PerUnitStrategy strategy = new PerUnitStrategy();

    @Test
    void sumsWhatEachUnitAdmitsAlone() {
        // dmar0: min(255, 600/2 = 300) = 255; dmar1: min(15, 40/2 = 20) = 15; dmar2: min(65535, 7/2 = 3) = 3
        List<UnitLoad> loads = List.of(new UnitLoad(unit("dmar0", 256), 600), new UnitLoad(unit("dmar1", 16), 40),
                new UnitLoad(unit("dmar2", 65536), 7));
        CapacityEstimate estimate = strategy.admits(loads, 2);
        assertThat(estimate.admits()).isEqualTo(255 + 15 + 3);
        assertThat(estimate.model()).isEqualTo("sum over units of min(usable, floor(groups / 2))");
    }

    @Test
    void oneDevicePerGuestIsTheCapacityWhenDevicesAbound() {
        List<UnitDescriptor> units = List.of(unit("a", 256), unit("b", 256));
        List<UnitLoad> loads = units.stream().map(u -> new UnitLoad(u, 1000)).toList();
        assertThat(strategy.admits(loads, 1).admits()).isEqualTo(strategy.capacity(units));
    }

    @Test
    void admitsNothingWithoutUnits() {
        assertThat(strategy.admits(List.of(), 3).admits()).isZero();
    }

    @Test
    void refusesFewerThanOneDevicePerGuest() {
        assertThatThrownBy(() -> strategy.admits(List.of(new UnitLoad(unit("a", 256), 4)), -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("devices per guest -1 out of range: expected 1 or more");
    }
}
