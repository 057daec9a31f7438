package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.ScopeMatch;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class ScopeMatchingTest {

    static final Capability CAP = Capability.parse("d2008c40660462");
    static final ExtendedCapability ECAP = ExtendedCapability.parse("f050da");

    static PciAddress bdf(String text) {
        return PciAddress.parse(text);
    }

    static UnitDefinition unit(String id, long base, boolean includeAll, DeviceScope... scopes) {
        return new UnitDefinition(id, 0, base, CAP, ECAP, includeAll, List.of(scopes));
    }

    /** Three units all claiming 0000:03:00.0: by endpoint, by bridge, by INCLUDE_PCI_ALL. */
    final UnitDefinition all = unit("all", 0xfed90000L, true);
    final UnitDefinition bridge = unit("bridge", 0xfed91000L, false, DeviceScope.bridge(bdf("00:1c.0"), 2, 4));
    final UnitDefinition endpoint = unit("endpoint", 0xfed92000L, false, DeviceScope.endpoint(bdf("03:00.0")));

    final PciInventory inventory = PciInventory.builder()
            .bridge(new PciInventory.Bridge(bdf("00:1c.0"), 2, 4), "t")
            .endpoint(bdf("00:14.0"), "t")
            .endpoint(bdf("03:00.0"), "t")
            .endpoint(bdf("03:00.1"), "t")
            .endpoint(bdf("05:00.0"), "t")
            .build();

    @Test
    void eachUnitSaysHowItClaims() {
        PciAddress device = bdf("03:00.0");
        assertThat(all.scopeOf(device)).isEqualTo(ScopeMatch.SEGMENT);
        assertThat(bridge.scopeOf(device)).isEqualTo(ScopeMatch.BRIDGE);
        assertThat(endpoint.scopeOf(device)).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(endpoint.scopeOf(bdf("03:00.1"))).isEqualTo(ScopeMatch.NONE);
        assertThat(bridge.scopeOf(bdf("05:00.0"))).isEqualTo(ScopeMatch.NONE);
        assertThat(bridge.scopeOf(bdf("04:1f.7"))).isEqualTo(ScopeMatch.BRIDGE);
        assertThat(all.scopeOf(bdf("0001:03:00.0"))).isEqualTo(ScopeMatch.NONE);
        // the bridge itself is on bus 0, outside its own range
        assertThat(bridge.scopeOf(bdf("00:1c.0"))).isEqualTo(ScopeMatch.NONE);
    }

    @Test
    void endpointBeatsBridgeBeatsIncludeAllWhateverTheOrder() {
        List<List<UnitDefinition>> orders = List.of(
                List.of(all, bridge, endpoint), List.of(endpoint, bridge, all), List.of(bridge, all, endpoint));
        for (List<UnitDefinition> order : orders) {
            UnitRegistry registry = new UnitRegistry(inventory, UnitPublisher.NONE);
            registry.addAll(order, "test");
            assertThat(registry.bestClaimant(bdf("03:00.0")).orElseThrow().id()).isEqualTo("endpoint");
            assertThat(registry.bestClaimant(bdf("03:00.1")).orElseThrow().id()).isEqualTo("bridge");
            assertThat(registry.bestClaimant(bdf("00:14.0")).orElseThrow().id()).isEqualTo("all");
            assertThat(registry.bestClaimant(bdf("0001:00:14.0"))).isEmpty();

            assertThat(registry.unit("endpoint").orElseThrow().devices()).containsExactly(bdf("03:00.0"));
            assertThat(registry.unit("bridge").orElseThrow().devices()).containsExactly(bdf("03:00.1"));
            assertThat(registry.unit("all").orElseThrow().devices()).containsExactly(bdf("00:14.0"), bdf("05:00.0"));
        }
    }

    @Test
    void removingTheStrongerClaimantHandsTheDeviceBack() {
        UnitRegistry registry = new UnitRegistry(inventory, UnitPublisher.NONE);
        registry.addAll(List.of(all, bridge), "test");
        VtdUnit extra = registry.add(endpoint, "configuration");
        assertThat(registry.unit("bridge").orElseThrow().devices()).containsExactly(bdf("03:00.1"));
        registry.remove(extra);
        assertThat(registry.unit("bridge").orElseThrow().devices()).containsExactly(bdf("03:00.0"), bdf("03:00.1"));
    }

    @Test
    void whileAUnitsServiceGoesTheOthersAlreadyClaimItsDevices() {
        PciAddress gpu = bdf("03:00.0");
        AtomicReference<UnitRegistry> registry = new AtomicReference<>();
        List<String> seen = new ArrayList<>();
        UnitPublisher publisher = unit -> () -> {
            // what a service listener sees in its unbind callback
            seen.add(unit.id() + " gone, " + gpu + " claimed by "
                    + registry.get().bestClaimant(gpu).map(VtdUnit::id).orElse("nobody"));
            unit.clearContext(gpu); // the departing unit can still clear the entries it holds
            // ...and write them back, as a detach whose invalidation failed rolls back
            unit.setContext(gpu, new DeviceContext(DomainId.of(3), GuestId.guest(1)));
            seen.add("rolled back: " + unit.context(gpu).orElseThrow().domainId());
            unit.clearContext(gpu);
        };
        registry.set(new UnitRegistry(inventory, publisher));
        registry.get().addAll(List.of(all, bridge), "test");
        VtdUnit endpointUnit = registry.get().add(endpoint, "configuration");
        endpointUnit.setContext(gpu, new DeviceContext(DomainId.of(3), GuestId.guest(1)));

        registry.get().remove(endpointUnit);
        assertThat(seen).containsExactly("endpoint gone, 0000:03:00.0 claimed by bridge", "rolled back: 3");
        assertThat(endpointUnit.context(gpu)).isEmpty();
    }

    /**
     * Two bridge scopes over one bus claim its devices equally (the one tie a
     * platform may hold): the unit whose id sorts first takes them, whichever
     * was registered first (UnitClaims, the rule the core follows too).
     */
    @Test
    void equalClaimsGoToTheUnitWhoseIdSortsFirstWhateverTheOrder() {
        UnitDefinition first = unit("dmar1", 0xfed93000L, false, DeviceScope.bridge(bdf("00:1c.0"), 2, 4));
        UnitDefinition second = unit("dmar2", 0xfed94000L, false, DeviceScope.bridge(bdf("00:1c.0"), 3, 3));
        PciAddress device = bdf("03:00.0");
        assertThat(first.scopeOf(device)).isEqualTo(second.scopeOf(device)).isEqualTo(ScopeMatch.BRIDGE);
        for (List<UnitDefinition> order : List.of(List.of(first, second), List.of(second, first))) {
            UnitRegistry registry = new UnitRegistry(inventory, UnitPublisher.NONE);
            registry.addAll(order, "test");
            assertThat(registry.bestClaimant(device).orElseThrow().id()).as("order %s", order).isEqualTo("dmar1");
            assertThat(registry.unit("dmar1").orElseThrow().devices()).containsExactly(device, bdf("03:00.1"));
            assertThat(registry.unit("dmar2").orElseThrow().devices()).isEmpty();
        }
        // ids compare as strings: dmar10 sorts before dmar2
        UnitRegistry registry = new UnitRegistry(inventory, UnitPublisher.NONE);
        registry.addAll(List.of(second, first.withId("dmar10")), "test");
        assertThat(registry.bestClaimant(device).orElseThrow().id()).isEqualTo("dmar10");
    }

    /** A unit added later with an id that sorts first takes the tied devices; removing it hands them back. */
    @Test
    void aLaterUnitWhoseIdSortsFirstTakesTheTiedDevices() {
        UnitRegistry registry = new UnitRegistry(inventory, UnitPublisher.NONE);
        registry.addAll(List.of(unit("dmar2", 0xfed94000L, false, DeviceScope.bridge(bdf("00:1c.0"), 2, 4))), "test");
        VtdUnit later = registry.add(unit("dmar1", 0xfed93000L, false, DeviceScope.bridge(bdf("00:1c.0"), 2, 4)),
                "configuration");
        assertThat(registry.bestClaimant(bdf("03:00.0"))).containsSame(later);
        registry.remove(later);
        assertThat(registry.bestClaimant(bdf("03:00.0")).orElseThrow().id()).isEqualTo("dmar2");
    }

    /** For any device and any bridge range: the best claimant is the strongest scope that covers it. */
    @Property
    void theBestClaimIsTheStrongestCoveringScope(
            @ForAll @IntRange(min = 1, max = 0xFF) int secondary,
            @ForAll @IntRange(min = 0, max = 0x20) int width,
            @ForAll @IntRange(min = 0, max = 0xFF) int bus,
            @ForAll @IntRange(min = 0, max = 0x1F) int device,
            @ForAll boolean endpointScope,
            @ForAll boolean includeAll) {
        int subordinate = Math.min(0xFF, secondary + width);
        PciAddress target = new PciAddress(0, bus, device, 0);
        List<UnitDefinition> units = new ArrayList<>();
        if (includeAll) {
            units.add(unit("all", 0x1000, true));
        }
        units.add(unit("bridge", 0x2000, false, DeviceScope.bridge(new PciAddress(0, 0, 1, 0), secondary, subordinate)));
        if (endpointScope) {
            units.add(unit("endpoint", 0x3000, false, DeviceScope.endpoint(target)));
        }
        UnitRegistry registry = new UnitRegistry(PciInventory.builder().endpoint(target, "t").build(), UnitPublisher.NONE);
        registry.addAll(units, "property");

        String expected = endpointScope ? "endpoint"
                : bus >= secondary && bus <= subordinate ? "bridge"
                : includeAll ? "all" : null;
        assertThat(registry.bestClaimant(target).map(VtdUnit::id).orElse(null)).isEqualTo(expected);
        long claimants = registry.units().stream().filter(u -> u.devices().contains(target)).count();
        assertThat(claimants).isEqualTo(expected == null ? 0 : 1);
    }
}
