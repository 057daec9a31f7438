package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.GuestDTO;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;

/** Attach and detach through the services, checked against the map and the units' own context entries. */
class AttachDetachTest extends PlatformTest {

    @Test
    void aGuestsDevicesOnOneUnitShareOneDomainIdReleasedWithTheLast() {
        String unitId = assignment.units().stream().filter(u -> u.devices >= 2).findFirst().orElseThrow().id;
        List<PciAddress> two = Platform.devicesOf(assignment, unitId).stream().limit(2)
                .map(d -> PciAddress.parse(d.bdf)).toList();
        GuestId guest = GuestId.guest(17);

        GuestDTO attached = assignment.attach(guest, two);
        assertThat(attached.devices).hasSize(2).allSatisfy(d -> assertThat(d.unit).isEqualTo(unitId));
        int did = attached.devices.get(0).did;
        assertThat(attached.devices.get(1).did).isEqualTo(did);
        assertThat(did).isNotZero();

        // the map agrees both ways, and so does the unit's context entry
        assertThat(map.domainId(guest, unitId)).contains(DomainId.of(did));
        assertThat(map.guest(unitId, DomainId.of(did))).contains(guest);
        IommuUnit unit = Platform.unit(context, unitId);
        assertThat(unit.context(two.get(0))).contains(new DeviceContext(DomainId.of(did), guest));

        assignment.detach(List.of(two.get(0)));
        assertThat(unit.context(two.get(0))).as("back in the host domain")
                .contains(DeviceContext.host(DomainId.of(1)));
        assertThat(map.domainId(guest, unitId)).contains(DomainId.of(did));

        assignment.detach(List.of(two.get(1)));
        assertThat(map.domainId(guest, unitId)).isEmpty();
        assertThat(map.guest(unitId, DomainId.of(did))).isEmpty();
        assertThat(assignment.guest(guest)).isEmpty();
        assertThat(unit.invalidationCounts().getOrDefault("domain", 0L)).isPositive();
    }

    @Test
    void devicesOnTwoUnitsGiveTheGuestAnIdOnEach() {
        var withDevices = assignment.units().stream().filter(u -> u.devices > 0).limit(2).toList();
        assertThat(withDevices).hasSize(2);
        PciAddress first = PciAddress.parse(Platform.devicesOf(assignment, withDevices.get(0).id).get(0).bdf);
        PciAddress second = PciAddress.parse(Platform.devicesOf(assignment, withDevices.get(1).id).get(0).bdf);
        GuestId guest = GuestId.guest(3);
        assignment.attach(guest, List.of(first, second));
        assertThat(map.domainsOf(guest)).containsOnlyKeys(withDevices.get(0).id, withDevices.get(1).id);
        assertThat(assignment.devices()).filteredOn(d -> d.guest != null).extracting(d -> d.bdf)
                .containsExactlyInAnyOrder(first.toString(), second.toString());
    }
}
