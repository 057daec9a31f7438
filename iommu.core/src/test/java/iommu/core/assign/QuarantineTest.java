package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.spi.Assignment;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;
import iommu.core.Fixture;
import iommu.core.RecordingFlush;
import iommu.core.assign.AllocationCounters.Counter;

/** An id goes back only once its invalidation completed; until then it is held (DESIGN 7.2). */
class QuarantineTest {

    private final List<String> events = new ArrayList<>();
    private final RecordingFlush flush = new RecordingFlush(events);
    private final AllocationCounters counters = new AllocationCounters();
    private final Quarantine quarantine = new Quarantine(flush, counters, Fixture.silentLogger());
    private final GuestId guest = GuestId.guest(3);
    private final DomainIdAllocator allocator = new PerUnitStrategy().open(
            List.of(new UnitDescriptor("dmar0", 4, Set.of(DomainId.of(0)))), List.of());

    @Test
    void anIdWhoseInvalidationCompletedGoesBack() {
        DomainId did = allocator.allocate(guest, "dmar0");
        quarantine.releaseOrHold(allocator, guest, "dmar0", did);
        assertThat(events).containsExactly("dmar0 flush domain 1");
        assertThat(allocator.inUse("dmar0").isEmpty()).isTrue();
        assertThat(counters.get("dmar0", Counter.RELEASES)).isEqualTo(1);
    }

    @Test
    void anIdWhoseInvalidationFailedIsHeldUntilARetrySucceeds() {
        DomainId did = allocator.allocate(guest, "dmar0");
        flush.failing = true;
        quarantine.releaseOrHold(allocator, guest, "dmar0", did);
        assertThat(allocator.inUse("dmar0").get(did.value())).as("not free while the unit may cache it").isTrue();
        assertThat(quarantine.holdsGuest("dmar0", guest)).isTrue();
        assertThat(quarantine.assignments()).containsExactly(new Assignment(guest, "dmar0", did));
        assertThat(counters.get("dmar0", Counter.QUARANTINED)).isEqualTo(1);

        quarantine.retry(allocator, Set.of("dmar0"));
        assertThat(quarantine.holds("dmar0", did)).as("the retry failed too").isTrue();
        flush.failing = false;
        quarantine.retry(allocator, Set.of()); // the unit is away: nothing is tried
        assertThat(quarantine.holds("dmar0", did)).isTrue();
        quarantine.retry(allocator, Set.of("dmar0"));
        assertThat(quarantine.holdsUnit("dmar0")).isFalse();
        assertThat(allocator.inUse("dmar0").isEmpty()).isTrue();
        assertThat(counters.get("dmar0", Counter.RELEASES)).isEqualTo(1);
    }

    @Test
    void aRenumberedHeldIdStaysHeldUnderItsNewNumber() {
        flush.failing = true;
        quarantine.releaseOrHold(allocator, guest, "dmar0", DomainId.of(2));
        assertThat(quarantine.renumber(new Assignment(guest, "dmar0", DomainId.of(2)), DomainId.of(3))).isTrue();
        assertThat(quarantine.ids("dmar0")).containsExactly(DomainId.of(3));
        assertThat(quarantine.renumber(new Assignment(guest, "dmar0", DomainId.of(1)), DomainId.of(2))).isFalse();
    }
}
