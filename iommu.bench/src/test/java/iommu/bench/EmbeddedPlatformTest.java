package iommu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.GuestId;
import iommu.api.PciAddress;

/**
 * The in-framework benchmarks' set-up, run once in the build (not timed):
 * the app jar's bundles resolve and start against the API on the class path,
 * and one attach and detach go through the registered service. It broke
 * unseen once, when the SPI's version moved and the embedded framework still
 * exported the old one.
 */
class EmbeddedPlatformTest {

    @Test
    void theAppsBundlesStartAndServeAnAttachAndADetach() throws Exception {
        try (EmbeddedPlatform platform = new EmbeddedPlatform()) {
            assertThat(platform.assignment.strategy()).contains("per-unit");
            List<PciAddress> vf = List.of(PciAddress.parse("0000:18:10.0"));
            assertThat(platform.assignment.attach(GuestId.guest(7), vf).devices).hasSize(1);
            platform.assignment.detach(vf);
            assertThat(platform.assignment.guests()).isEmpty();
            assertThat(platform.assignment.audit()).isEmpty();
        }
    }
}
