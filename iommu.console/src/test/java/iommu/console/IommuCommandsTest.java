package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import iommu.api.IommuException;

class IommuCommandsTest {

    private final FakeAssignment da = new FakeAssignment();
    private final IommuCommands cmd = new IommuCommands();

    IommuCommandsTest() {
        cmd.assignment = da;
    }

    @Test
    void attachPrintsTheGuestsDevicesWithDids() {
        String out = cmd.attach("4", "0000:3b:00.1", "5e:00.0");
        assertThat(out.split("\n")).hasSize(3);
        assertThat(out).contains("0000:3b:00.1", "dmar0", "0000:5e:00.0", "dmar1");
    }

    @Test
    void detachReportsWhatItDetached() {
        cmd.attach("4", "0000:3b:00.1");
        String out = cmd.detach("0000:3b:00.1");
        assertThat(out).startsWith("detached\n").contains("0000:3b:00.1", "dmar0");
        assertThat(da.owner).isEmpty();
    }

    @Test
    void badArgumentsAreOneLineErrorsAndChangeNothing() {
        assertThatThrownBy(() -> cmd.attach("0", "0000:3b:00.1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host");
        assertThatThrownBy(() -> cmd.attach("x", "0000:3b:00.1"))
                .hasMessageContaining("malformed guest id 'x'");
        assertThatThrownBy(() -> cmd.attach("1", "0000:3b:00.1", "nonsense"))
                .hasMessageContaining("malformed PCI address 'nonsense'");
        assertThatThrownBy(() -> cmd.attach("1"))
                .hasMessageContaining("missing device");
        assertThatThrownBy(() -> cmd.detach())
                .hasMessageContaining("missing device");
        assertThat(da.owner).isEmpty();
    }

    @Test
    void attachingAnAttachedDeviceFailsWithTheServicesMessage() {
        cmd.attach("1", "0000:3b:00.1");
        assertThatThrownBy(() -> cmd.attach("2", "0000:3b:00.1"))
                .isInstanceOf(IommuException.class)
                .hasMessageContaining("already attached");
    }

    @Test
    void withoutCoreEveryCommandSaysSo() {
        cmd.assignment = null;
        assertThatThrownBy(() -> cmd.units(false))
                .isInstanceOf(IommuException.class)
                .hasMessageContaining("iommu.core");
        assertThatThrownBy(() -> cmd.strategy())
                .hasMessageContaining("iommu.core");
    }

    @Test
    void strategyPrintsTheBoundOne() {
        assertThat(cmd.strategy()).isEqualTo("per-unit");
        da.bound = null;
        da.problem = "strategy 'global' is not registered";
        assertThatThrownBy(() -> cmd.strategy())
                .hasMessageContaining("no allocation strategy is bound")
                .hasMessageContaining("not registered");
    }

    @Test
    void listingsPrintTablesOrJson() {
        assertThat(cmd.units(false)).startsWith("UNIT");
        assertThat(cmd.units(true)).startsWith("[");
        assertThat(cmd.devices(false)).startsWith("BDF");
        assertThat(cmd.guests(false)).isEqualTo("no guest holds a device");
        assertThat(cmd.guests(true)).isEqualTo("[]");
    }
}
