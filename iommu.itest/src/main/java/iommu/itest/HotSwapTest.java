package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceRegistration;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.AllocationStrategy;
import iommu.api.spi.DeviceContext;

/** Swapping the allocation strategy at runtime while guests keep their devices (DESIGN section 5). */
class HotSwapTest extends PlatformTest {


    final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        registrations.forEach(ServiceRegistration::unregister);
        for (Bundle b : context.getBundles()) {
            if (b.getSymbolicName().startsWith("iommu.alloc.") && b.getState() != Bundle.ACTIVE) {
                b.start();
            }
        }
        resetPlatform();
        assertThat(assignment.audit()).isEmpty();
    }

    static List<PciAddress> nic(int index) {
        return switch (index) {
            case 0 -> CapacityTest.vfs("0000:18:00.0", 128, 1);
            case 1 -> CapacityTest.vfs("0000:3b:00.0", 2, 1);
            default -> CapacityTest.vfs("0000:86:00.0", 128, 2);
        };
    }

    void register(AllocationStrategy strategy) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(AllocationStrategy.NAME, strategy.name());
        registrations.add(context.registerService(AllocationStrategy.class, strategy, props));
    }

    @Test
    void perUnitToGlobalIsRefusedOverCapacityAndNothingChanges() throws Exception {
        for (int g = 1; g <= 300; g++) {
            assignment.attach(GuestId.guest(g), List.of(nic(g % 3).get(g / 3)));
        }
        String before = Platform.state(assignment);
        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(assignment.strategyProblem()).get().asString()
                .contains("300 guests hold domain ids but the shared space has 254 usable ids")
                .endsWith("'per-unit' stays bound");
        assertThat(Platform.state(assignment)).isEqualTo(before);
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void perUnitToGlobalRenumbersSoEveryGuestHasOneIdOnEveryUnit() throws Exception {
        // guest 100 takes id 2 on dmar2 first (1 is the host domain's), so guests 1..20 get 3..22 there but
        // 2..21 on dmar0
        assignment.attach(GuestId.guest(100), List.of(nic(2).get(100)));
        for (int g = 1; g <= 20; g++) {
            assignment.attach(GuestId.guest(g), List.of(nic(0).get(g), nic(2).get(g)));
        }
        assertThat(map.domainsOf(GuestId.guest(1)).values()).containsExactlyInAnyOrder(DomainId.of(2), DomainId.of(3));

        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategyProblem()).isEmpty();
        assertThat(assignment.strategy()).contains("global");
        for (int g = 1; g <= 20; g++) {
            GuestId guest = GuestId.guest(g);
            Set<DomainId> ids = new TreeSet<>(map.domainsOf(guest).values());
            assertThat(ids).as("guest %d", g).hasSize(1);
            DomainId did = ids.iterator().next();
            // the units' own context entries agree with the map
            assertThat(Platform.unit(context, "dmar0").context(nic(0).get(g))).contains(new DeviceContext(did, guest));
            assertThat(Platform.unit(context, "dmar2").context(nic(2).get(g))).contains(new DeviceContext(did, guest));
        }
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void globalToPerUnitAdoptsEveryIdAsItIs() throws Exception {
        Platform.requestStrategy(cm, assignment, "global");
        for (int g = 1; g <= 30; g++) {
            assignment.attach(GuestId.guest(g), List.of(nic(g % 3).get(g), nic((g + 1) % 3).get(g)));
        }
        String before = Platform.state(assignment).replace("strategy=global", "");
        long invalidationsBefore = Platform.unit(context, "dmar0").invalidationCounts().values().stream()
                .mapToLong(Long::longValue).sum();
        Platform.requestStrategy(cm, assignment, "per-unit");
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(Platform.state(assignment).replace("strategy=per-unit", "")).isEqualTo(before);
        // adopting rewrote nothing, so nothing needed invalidating
        assertThat(Platform.unit(context, "dmar0").invalidationCounts().values().stream().mapToLong(Long::longValue).sum())
                .isEqualTo(invalidationsBefore);
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void aFailureInTheMiddleOfARenumberingRollsEverythingBack() throws Exception {
        for (int g = 1; g <= 12; g++) {
            assignment.attach(GuestId.guest(g), List.of(nic(g % 3).get(g)));
        }
        String before = Platform.state(assignment);
        register(new FaultyStrategy());
        Platform.requestStrategy(cm, assignment, FaultyStrategy.NAME);
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(assignment.strategyProblem()).get().asString()
                .startsWith("strategy 'faulty' refused: renumbering failed and was rolled back:");
        assertThat(Platform.state(assignment)).isEqualTo(before);
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void aThirdPartyStrategyCanBeBound() throws Exception {
        for (int g = 1; g <= 6; g++) {
            assignment.attach(GuestId.guest(g), List.of(nic(0).get(g)));
        }
        assignment.detach(List.of(nic(0).get(2), nic(0).get(4)));   // holes at ids 3 and 5
        register(new PackedStrategy());
        Platform.requestStrategy(cm, assignment, PackedStrategy.NAME);
        assertThat(assignment.strategy()).contains(PackedStrategy.NAME);
        assertThat(map.domainsOn("dmar0").keySet()).extracting(DomainId::value).containsExactly(2, 3, 4, 5);
        assertThat(assignment.attach(GuestId.guest(7), List.of(nic(0).get(7))).devices.get(0).did).isEqualTo(6);
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void eightThreadsAttachingAndDetachingDuringRepeatedSwapsSeeNoFailure() throws Exception {
        Workload.Result load = Workload.run(() -> assignment, () -> {
            for (int swap = 0; swap < 10; swap++) {
                String name = swap % 2 == 0 ? "global" : "per-unit";
                Platform.requestStrategy(cm, assignment, name);
                assertThat(assignment.strategyProblem()).as("swap %d to %s", swap, name).isEmpty();
                Thread.sleep(50);
            }
        });
        assertThat(load.errors()).isEmpty();
        assertThat(load.workers()).allSatisfy(w -> assertThat(w.operations).as("operations of a worker").isGreaterThan(20));
        assertThat(Workload.platformView(assignment)).isEqualTo(load.attached());
        assertThat(load.wrongTranslations(assignment, id -> Platform.unit(context, id))).isEmpty();
        assertThat(assignment.audit()).isEmpty();
    }

    @Test
    void stoppingAndRestartingTheStrategyBundleUnderLoadLosesNothing() throws Exception {
        Bundle perUnit = java.util.Arrays.stream(context.getBundles())
                .filter(b -> "iommu.alloc.perunit".equals(b.getSymbolicName())).findFirst().orElseThrow();
        Workload.Result load = Workload.run(() -> assignment, () -> {
            for (int round = 0; round < 3; round++) {
                Thread.sleep(100);
                perUnit.stop();
                Thread.sleep(100);
                perUnit.start();
                Platform.await("per-unit to be bound again",
                        () -> assignment.strategy().filter("per-unit"::equals).isPresent());
            }
            Thread.sleep(100);
        });
        // while no strategy is bound attaches fail, clearly; nothing else may fail
        assertThat(load.errors()).allSatisfy(e -> assertThat(e).contains("no allocation strategy bound"));
        assertThat(Workload.platformView(assignment)).isEqualTo(load.attached());
        assertThat(load.wrongTranslations(assignment, id -> Platform.unit(context, id))).isEmpty();
        assertThat(assignment.audit()).isEmpty();
    }
}
