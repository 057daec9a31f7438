package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import iommu.api.CoreConfiguration;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;

/**
 * The seed's headline on the embedded default platform: three SR-IOV NICs of
 * 128 VFs under three different units of 256 domain ids, one VF per guest.
 * One global space admits 254 guests (255 without the host domain, as the
 * seed counted); a space per unit admits all 384.
 */
class CapacityTest extends PlatformTest {

    /** VF n of a PF: PF routing id + First VF Offset + (n-1) x VF Stride (the default platform's NICs). */
    static List<PciAddress> vfs(String pf, int offset, int stride) {
        int pfRid = PciAddress.parse(pf).routingId();
        List<PciAddress> list = new ArrayList<>();
        for (int n = 1; n <= 128; n++) {
            list.add(PciAddress.ofRoutingId(0, pfRid + offset + (n - 1) * stride));
        }
        return list;
    }

    /** One VF per guest, taking the NICs in turn so every unit fills alike. */
    List<PciAddress> oneVfPerGuest() {
        List<List<PciAddress>> nics = List.of(vfs("0000:18:00.0", 128, 1), vfs("0000:3b:00.0", 2, 1),
                vfs("0000:86:00.0", 128, 2));
        Map<String, String> unitOf = assignment.devices().stream().collect(Collectors.toMap(d -> d.bdf, d -> d.unit));
        List<String> nicUnits = nics.stream().map(vf -> unitOf.get(vf.get(0).toString())).toList();
        assertThat(nicUnits).doesNotContainNull().doesNotHaveDuplicates();
        for (int i = 0; i < 3; i++) {
            String unit = nicUnits.get(i);
            assertThat(nics.get(i)).allSatisfy(vf -> assertThat(unitOf.get(vf.toString())).isEqualTo(unit));
        }
        assertThat(assignment.units()).allSatisfy(u -> assertThat(u.domainIds).isEqualTo(256));
        List<PciAddress> order = new ArrayList<>();
        for (int n = 0; n < 128; n++) {
            for (List<PciAddress> nic : nics) {
                order.add(nic.get(n));
            }
        }
        return order;
    }

    @Test
    void globalAdmits254GuestsBesideTheHostDomainAndRefusesThe255thChangingNothing() throws Exception {
        fillGlobal(254);
    }

    @Test
    void withoutTheHostDomainGlobalAdmits255AsTheSeedCounted() throws Exception {
        Platform.configureCore(cm, assignment, CoreConfiguration.HOST_DOMAIN, "none");
        try {
            assertThat(assignment.units()).allSatisfy(u -> assertThat(u.hostDomainId).isNull());
            fillGlobal(255);
        } finally {
            Platform.reset(cm, assignment);
            Platform.configureCore(cm, assignment, CoreConfiguration.HOST_DOMAIN, "linux");
        }
    }

    private void fillGlobal(int admitted) throws Exception {
        List<PciAddress> vfs = oneVfPerGuest();
        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategy()).contains("global");
        for (int g = 1; g <= admitted; g++) {
            assignment.attach(GuestId.guest(g), List.of(vfs.get(g - 1)));
        }
        assertThat(assignment.guests()).hasSize(admitted);
        String before = Platform.state(assignment);
        assertThatThrownBy(() -> assignment.attach(GuestId.guest(admitted + 1), List.of(vfs.get(admitted))))
                .isInstanceOf(DomainIdsExhaustedException.class)
                .hasMessageContaining("all " + admitted + " usable ids of the global space");
        assertThat(Platform.state(assignment)).isEqualTo(before);
        assertThat(assignment.devices()).filteredOn(d -> vfs.get(admitted).toString().equals(d.bdf))
                .extracting((DeviceDTO d) -> d.guest).containsExactly((Integer) null);
    }

    @Test
    void perUnitAdmitsAll384() {
        List<PciAddress> vfs = oneVfPerGuest();
        assertThat(assignment.strategy()).contains("per-unit");
        for (int g = 1; g <= 384; g++) {
            assignment.attach(GuestId.guest(g), List.of(vfs.get(g - 1)));
        }
        assertThat(assignment.guests()).hasSize(384);
        assertThat(assignment.units()).filteredOn(u -> u.usedDomainIds > 0)
                .extracting(u -> u.usedDomainIds).containsExactly(128, 128, 128);
    }
}
