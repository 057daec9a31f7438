package iommu.itest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;

import iommu.api.DeviceAssignment;
import iommu.api.DomainIdMap;

/**
 * What most in-framework tests start from: the platform's services, and the
 * default state (no guest, per-unit bound) before and after each test, since
 * every test class shares one framework.
 */
abstract class PlatformTest {

    @InjectBundleContext
    BundleContext context;
    @InjectService
    DeviceAssignment assignment;
    @InjectService
    DomainIdMap map;
    @InjectService
    ConfigurationAdmin cm;

    @BeforeEach
    @AfterEach
    void resetPlatform() throws Exception {
        Platform.reset(cm, assignment);
    }
}
