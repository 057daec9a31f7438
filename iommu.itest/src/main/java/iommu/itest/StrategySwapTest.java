package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;


/** The strategy is chosen by configuration; with no guest attached a swap always works. */
class StrategySwapTest extends PlatformTest {

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
