package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.test.common.annotation.InjectService;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.dto.DeviceDTO;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.PlatformDiscovery;

/**
 * The second vendor, through the API alone: AMD-Vi units discovered from an
 * IVRS table beside the default VT-d units, each with its own domain-id
 * space; the seed's capacity question and a strategy swap across both.
 */
class AmdViTest extends PlatformTest {

    @InjectService(filter = "(" + PlatformDiscovery.VENDOR + "=amd-vi)")
    PlatformDiscovery amdvi;

    List<String> discovered = List.of();

    @AfterEach
    void forget() throws Exception {
        resetPlatform();
        discovered.forEach(amdvi::forget);
        Platform.await("AMD-Vi units to go", () -> assignment.units().stream().noneMatch(u -> u.vendor.equals("amd-vi")));
    }

    @Test
    void amdViUnitsJoinTheVtdOnesEachWithItsOwnSpace() throws Exception {
        Path ivrs = Path.of(System.getProperty("iommu.itest.ivrs"));
        assertThat(amdvi.recognizes(ivrs)).isTrue();
        DiscoveryDTO found = amdvi.discover(ivrs);
        discovered = found.units;
        assertThat(found.units).hasSize(2);
        Platform.await("AMD-Vi units to reach the core",
                () -> assignment.units().stream().filter(u -> u.vendor.equals("amd-vi")).count() == 2);
        List<UnitDTO> amd = assignment.units().stream().filter(u -> u.vendor.equals("amd-vi")).toList();
        assertThat(amd).allSatisfy(u -> {
            assertThat(u.domainIds).isEqualTo(65536);
            assertThat(u.reserved).as("domain 0 and the host domain's").containsExactly(0, 1);
            assertThat(u.hostDomainId).isEqualTo(1);
            assertThat(u.devices).isPositive();
        });

        // one device per guest on the AMD-Vi units, beyond what 256-id units could share
        List<PciAddress> devices = assignment.devices().stream()
                .filter(d -> found.units.contains(d.unit) && !d.reservedMemory)
                .map((DeviceDTO d) -> PciAddress.parse(d.bdf)).limit(400).toList();
        assertThat(devices).hasSize(400);
        for (int g = 1; g <= 400; g++) {
            assignment.attach(GuestId.guest(g), List.of(devices.get(g - 1)));
        }
        assertThat(assignment.audit()).isEmpty();

        // the global space is sized by the smallest unit (a VT-d unit of 256): 400 guests do not fit
        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(assignment.strategyProblem()).get().asString().contains("400 guests")
                .contains("254 usable ids");
        Platform.requestStrategy(cm, assignment, "per-unit"); // as iommu:strategy does after a refusal

        // 200 do: the swap renumbers so that each guest has one id, distinct from every other guest's
        assignment.detach(devices.subList(200, 400));
        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategy()).contains("global");
        Set<DomainId> ids = new TreeSet<>();
        for (int g = 1; g <= 200; g++) {
            var held = map.domainsOf(GuestId.guest(g));
            assertThat(held).hasSize(1);
            ids.add(held.values().iterator().next());
        }
        assertThat(ids).hasSize(200);
        assertThat(assignment.audit()).isEmpty();
    }
}
