package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

import iommu.api.DeviceAssignment;
import iommu.api.DomainIdMap;
import iommu.api.FlushService;

class PlatformStartsTest {

    @InjectBundleContext
    BundleContext context;

    @Test
    void everyPlatformBundleIsActive() {
        for (String bsn : new String[] {"iommu.api", "iommu.core", "iommu.flush", "iommu.vtd", "iommu.alloc.global",
                "iommu.alloc.perunit"}) {
            Bundle bundle = Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName()))
                    .findFirst().orElseThrow(() -> new AssertionError("bundle " + bsn + " is not installed"));
            assertThat(bundle.getState()).as(bsn).isEqualTo(Bundle.ACTIVE);
        }
    }

    @Test
    void thePlatformServicesAreThere(@InjectService DeviceAssignment assignment, @InjectService DomainIdMap map,
            @InjectService FlushService flush) {
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(assignment.units()).isNotEmpty();
        assertThat(map.guests()).isEmpty();
        assertThat(flush).isNotNull();
    }
}
