package iommu.core.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.StrategyRefusedException;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.TestUnit;
import iommu.core.assign.AllocationCounters;
import iommu.core.assign.Attachments;
import iommu.core.assign.DomainIdTable;
import iommu.core.assign.Quarantine;
import iommu.core.assign.Recorder;
import iommu.core.assign.Topology;

class StrategyBindingTest {

    private final List<String> events = new ArrayList<>();
    private final Topology topology = new Topology();
    private final List<Assignment> current = new ArrayList<>();
    private final StrategyBinding binding;

    StrategyBindingTest() {
        TestUnit dmar0 = new TestUnit("dmar0", 16, events).withDevices(0x18, 4);
        topology.add(dmar0);
        topology.describe(UnitDescriptor.of(dmar0));
        RecordingFlush flush = new RecordingFlush(events);
        DomainIdTable table = new DomainIdTable();
        Attachments attachments = new Attachments();
        Renumbering renumbering = new Renumbering(table, flush, topology, attachments,
                new Quarantine(flush, new AllocationCounters(), Fixture.silentLogger()), Recorder.NONE,
                p -> { }, Fixture.silentLogger());
        binding = new StrategyBinding(topology, () -> current, renumbering, Fixture.silentLogger(), "per-unit");
    }

    private final List<String> opened = new ArrayList<>();

    /** A per-unit strategy that says which service was opened. */
    private final class Named extends PerUnitStrategy {
        final String label;

        Named(String label) {
            this.label = label;
        }

        @Override
        public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> a) {
            opened.add(label);
            return super.open(units, a);
        }
    }

    private static Map<String, Object> props(String name, int ranking, long id) {
        return Map.of(AllocationStrategy.NAME, name, "service.ranking", ranking, "service.id", id);
    }

    @Test
    void amongServicesOfTheRequestedNameTheHighestRankingThenTheLowestServiceIdIsBound() {
        Named low = new Named("low"), high = new Named("high"), highLater = new Named("high, later");
        binding.add(low, props("per-unit", 0, 1L));
        binding.add(highLater, props("per-unit", 5, 9L));
        binding.add(high, props("per-unit", 5, 3L));
        binding.reselect();
        assertThat(binding.boundName()).contains("per-unit");
        assertThat(binding.problem()).isEmpty();
        assertThat(opened).containsExactly("high");
        binding.remove(low);
        binding.reselect();
        assertThat(opened).as("a service that is not bound going changes nothing").containsExactly("high");
        binding.remove(high);
        assertThat(binding.allocator()).isNull();
        binding.reselect();
        assertThat(opened).containsExactly("high", "high, later");
        assertThat(binding.allocator()).isNotNull();
    }

    @Test
    void aStrategyThatRefusesLeavesTheOldOneBoundAndSaysWhy() {
        binding.add(new PerUnitStrategy(), props("per-unit", 0, 1L));
        binding.add(new AllocationStrategy() {
            @Override public String name() { return "picky"; }
            @Override public String description() { return "refuses everything"; }
            @Override public DomainIdAllocator open(Collection<UnitDescriptor> units, Collection<Assignment> a) {
                throw new StrategyRefusedException("picky cannot hold the current assignments: injected");
            }
            @Override public long capacity(Collection<UnitDescriptor> units) { return 0; }
        }, props("picky", 0, 2L));
        binding.reselect();
        binding.request("picky");
        binding.reselect();
        assertThat(binding.boundName()).contains("per-unit");
        assertThat(binding.problem()).contains("strategy 'picky' refused: picky cannot hold the current assignments:"
                + " injected; 'per-unit' stays bound");
    }

    @Test
    void withNoStrategyBoundAnAttachIsAClearError() {
        binding.reselect();
        assertThat(binding.problem()).contains("strategy 'per-unit' is not available: present are []");
        assertThatThrownBy(binding::requireAllocator).hasMessage("no allocation strategy bound: strategy 'per-unit'"
                + " is not available: present are []");
        binding.add(new GlobalStrategy(), props("global", 0, 4L));
        binding.request(" ");
        binding.reselect();
        assertThat(binding.problem()).contains("configuration iommu.core names no strategy: expected one of [global]");
    }

    @Test
    void assignmentsOnAUnitTheAllocatorIsNotToldOfAreNotHandedToIt() {
        current.add(new Assignment(iommu.api.GuestId.guest(1), "dmar7", iommu.api.DomainId.of(3)));
        binding.add(new PerUnitStrategy(), props("per-unit", 0, 1L));
        binding.reselect();
        assertThat(binding.boundName()).as("not refused for a unit that is not here yet").contains("per-unit");
    }
}
