package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectService;

import iommu.api.DeviceAssignment;

/** The strategy is chosen by configuration; with no guest attached a swap always works. */
class StrategySwapTest {

    @InjectService
    DeviceAssignment assignment;
    @InjectService
    ConfigurationAdmin cm;

    @BeforeEach
    @AfterEach
    void reset() throws Exception {
        Platform.reset(cm, assignment);
    }

    @Test
    void perUnitIsTheDefaultAndSwapsToGlobalAndBack() throws Exception {
        assertThat(assignment.strategy()).contains("per-unit");
        Platform.requestStrategy(cm, assignment, "global");
        assertThat(assignment.strategy()).contains("global");
        assertThat(assignment.strategyProblem()).isEmpty();
        Platform.requestStrategy(cm, assignment, "per-unit");
        assertThat(assignment.strategy()).contains("per-unit");
    }

    @Test
    void anUnknownNameKeepsTheBoundStrategyAndSaysWhy() throws Exception {
        Platform.requestStrategy(cm, assignment, "packed");
        assertThat(assignment.strategy()).contains("per-unit");
        assertThat(assignment.strategyProblem()).get().asString()
                .isEqualTo("strategy 'packed' is not available: present are [global, per-unit]; 'per-unit' stays bound");
    }
}
