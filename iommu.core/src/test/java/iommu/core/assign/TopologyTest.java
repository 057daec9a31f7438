package iommu.core.assign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;

import org.junit.jupiter.api.Test;

import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;
import iommu.core.TestUnit;

class TopologyTest {

    private static final PciAddress NIC = PciAddress.parse("0000:00:00.0");

    /** A unit listing the devices of bus 0 with the claim given. */
    private static TestUnit unit(String id, ScopeMatch claim) {
        return new TestUnit(id, 256, new ArrayList<>()) {
            @Override
            public ScopeMatch scopeOf(PciAddress device) {
                return endpoints.contains(device) ? claim : ScopeMatch.NONE;
            }
        }.withDevices(0, 1);
    }

    @Test
    void aDeviceGoesToItsStrongestClaimantThenToTheUnitIdThatSortsFirst() {
        Topology t = new Topology();
        TestUnit pciAll = unit("dmar4", ScopeMatch.SEGMENT);
        TestUnit otherPciAll = unit("dmar3", ScopeMatch.SEGMENT);
        TestUnit bridge = unit("dmar9", ScopeMatch.BRIDGE);
        for (TestUnit u : new TestUnit[] {pciAll, otherPciAll}) {
            t.add(u);
            t.indexUnit(u);
        }
        assertThat(t.resolve(NIC)).isEqualTo("dmar3");
        t.add(bridge);
        t.indexUnit(bridge);
        assertThat(t.resolve(NIC)).isEqualTo("dmar9");
        assertThat(t.deviceCount("dmar3")).isZero();

        t.remove(bridge);
        t.unindexUnit("dmar9");
        assertThat(t.resolve(NIC)).isEqualTo("dmar3");
        t.rebuildIndex();
        assertThat(t.resolve(NIC)).isEqualTo("dmar3");
    }

    @Test
    void anUnknownDeviceOrAbsentUnitIsAClearError() {
        Topology t = new Topology();
        assertThatThrownBy(() -> t.resolve(NIC)).isInstanceOf(IommuException.class)
                .hasMessage("unknown device 0000:00:00.0: no IOMMU unit translates it (0 devices known on units []; "
                        + "see iommu:devices)");
        assertThatThrownBy(() -> t.present("dmar0")).hasMessage("unit dmar0 is not present");
        assertThat(t.knows(NIC)).isFalse();
    }

    @Test
    void onlyTheSameUnitObjectIsRemoved() {
        Topology t = new Topology();
        TestUnit first = unit("dmar0", ScopeMatch.ENDPOINT);
        t.add(first);
        assertThat(t.remove(unit("dmar0", ScopeMatch.ENDPOINT))).isFalse();
        assertThat(t.isPresent("dmar0")).isTrue();
        assertThat(t.remove(first)).isTrue();
        assertThat(t.isPresent("dmar0")).isFalse();
    }
}
