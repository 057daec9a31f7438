package iommu.api.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

class UnitClaimsTest {

    private static final PciAddress NIC = PciAddress.parse("0000:18:00.0");

    @Test
    void theStrongerClaimWinsWhateverTheUnitIds() {
        assertThat(UnitClaims.beats(ScopeMatch.ENDPOINT, "dmar9", ScopeMatch.BRIDGE, "dmar0")).isTrue();
        assertThat(UnitClaims.beats(ScopeMatch.BRIDGE, "dmar9", ScopeMatch.SEGMENT, "dmar0")).isTrue();
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar0", ScopeMatch.BRIDGE, "dmar9")).isFalse();
    }

    @Test
    void betweenEqualClaimsTheUnitIdThatSortsFirstWins() {
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar0", ScopeMatch.SEGMENT, "dmar4")).isTrue();
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar4", ScopeMatch.SEGMENT, "dmar0")).isFalse();
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar4", ScopeMatch.SEGMENT, "dmar4")).isFalse();
    }

    @Test
    void aNonClaimNeverWinsAndAnyClaimBeatsNone() {
        assertThat(UnitClaims.beats(ScopeMatch.NONE, "dmar0", null, null)).isFalse();
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar9", null, null)).isTrue();
        assertThat(UnitClaims.beats(ScopeMatch.SEGMENT, "dmar9", ScopeMatch.NONE, "dmar0")).isTrue();
    }

    @Test
    void bestDoesNotDependOnTheOrderOfTheUnits() {
        record Unit(String id, ScopeMatch match) {
        }
        List<Unit> units = List.of(new Unit("ivhd1", ScopeMatch.SEGMENT), new Unit("ivhd0", ScopeMatch.SEGMENT),
                new Unit("ivhd2", ScopeMatch.NONE));
        assertThat(UnitClaims.best(units, Unit::id, Unit::match)).map(Unit::id).contains("ivhd0");
        assertThat(UnitClaims.best(List.of(units.get(2), units.get(1), units.get(0)), Unit::id, Unit::match)).map(Unit::id).contains("ivhd0");
        assertThat(UnitClaims.best(List.of(new Unit("x", ScopeMatch.NONE)), Unit::id, Unit::match)).isEmpty();
    }

    @Test
    void theIndexGivesADeviceToItsStrongestClaimantAndBackWhenItLeaves() {
        DeviceIndex index = new DeviceIndex();
        index.claim(NIC, "dmar4", ScopeMatch.SEGMENT);
        index.claim(NIC, "dmar0", ScopeMatch.ENDPOINT);
        index.claim(NIC, "dmar1", ScopeMatch.BRIDGE);
        assertThat(index.unitOf(NIC)).contains("dmar0");
        assertThat(index.claimOf(NIC)).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(index.devicesOf("dmar4")).isEmpty();
        assertThat(index.removeUnit("dmar0")).containsExactly(NIC);
        assertThat(index.unitOf(NIC)).isEmpty();
        index.claim(NIC, "dmar4", ScopeMatch.SEGMENT);
        index.claim(NIC, "dmar1", ScopeMatch.BRIDGE);
        assertThat(index.units()).isEqualTo(Map.of(NIC, "dmar1"));
        assertThat(index.devicesOf("dmar1")).containsExactly(NIC);
        assertThat(index.size()).isEqualTo(1);
    }
}
