package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.amdvi.Ivrs.Ivhd;
import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * Two IVHDs naming the same device claim it equally: the unit whose id sorts
 * first takes it, not the one registered first (UnitClaims, the rule the core
 * and the VT-d bundle follow too).
 */
class TieBreakTest {

    private final UnitDefinition original = IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-10h.aml")).units().get(0);
    /** The same IVHD at another register base: another IOMMU naming the same devices. */
    private final UnitDefinition twin = twin(original, 0x10_0000);
    private final PciAddress device = PciAddress.ofRoutingId(original.segment(), original.named().nextSetBit(0));

    private static UnitDefinition twin(UnitDefinition d, long offset) {
        Ivhd h = d.ivhd();
        Ivhd moved = new Ivhd(h.offset(), h.type(), h.flags(), h.length(), h.deviceId(), h.capabilityOffset(),
                h.baseAddress() + offset, h.segment(), h.info(), h.featureInfo(), h.efr(), h.efr2(), h.entries());
        return UnitDefinition.of("twin", moved, d.ivinfo(), List.of());
    }

    @Test
    void equalClaimsGoToTheUnitWhoseIdSortsFirstWhateverTheOrder() {
        assertThat(original.scopeOf(device)).isEqualTo(twin.scopeOf(device)).isEqualTo(ScopeMatch.ENDPOINT);
        for (List<UnitDefinition> order : List.of(List.of(original, twin), List.of(twin, original))) {
            UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
            List<AmdViUnit> units = registry.addAll(order, "t");
            assertThat(registry.bestClaimant(device)).containsSame(units.get(0));
            assertThat(units.get(0).id()).isEqualTo("ivhd0");
            assertThat(units.get(0).translates(device)).isTrue();
            assertThat(units.get(1).translates(device)).isFalse();
        }
    }

    /**
     * ivhd0 removed and discovered again comes back as ivhd0 (the lowest id
     * free) after ivhd1: it takes the tied device back, though registered last.
     */
    @Test
    void aUnitRegisteredLaterWhoseIdSortsFirstTakesTheTiedDevice() {
        UnitRegistry registry = new UnitRegistry(UnitRegistry.Publisher.NONE);
        List<AmdViUnit> units = registry.addAll(List.of(original, twin), "t");
        registry.remove(units.get(0));
        assertThat(registry.bestClaimant(device)).containsSame(units.get(1));
        AmdViUnit again = registry.addAll(List.of(original), "again").get(0);
        assertThat(again.id()).isEqualTo("ivhd0");
        assertThat(registry.units()).extracting(AmdViUnit::id).containsExactly("ivhd1", "ivhd0");
        assertThat(registry.bestClaimant(device)).containsSame(again);
        assertThat(units.get(1).translates(device)).isFalse();
    }
}
