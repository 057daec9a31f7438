package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;

/** Every bad argument gets one line naming the problem, and the platform is exactly as before. */
class BadInputTest extends PlatformTest {

    @Test
    void badArgumentsChangeNothing() {
        PciAddress nic0vf = PciAddress.parse("0000:18:10.0");
        PciAddress nic0vf2 = PciAddress.parse("0000:18:10.1");
        assignment.attach(GuestId.guest(1), List.of(nic0vf));
        String before = Platform.state(assignment);

        assertThatThrownBy(() -> PciAddress.parse("0000:18:10")).hasMessageContaining("expected SSSS:BB:DD.F");
        assertThatThrownBy(() -> PciAddress.parse("0000:18:20.0")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> GuestId.parse("32752")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> GuestId.parse("0")).hasMessageContaining("host");
        assertThatThrownBy(() -> assignment.attach(GuestId.HOST, List.of(nic0vf2)))
                .isInstanceOf(IommuException.class).hasMessageContaining("host");
        assertThatThrownBy(() -> assignment.attach(GuestId.guest(2), List.of(PciAddress.parse("0000:55:00.0"))))
                .isInstanceOf(IommuException.class).hasMessageStartingWith("unknown device 0000:55:00.0");
        assertThatThrownBy(() -> assignment.attach(GuestId.guest(2), List.of(nic0vf)))
                .hasMessage("device 0000:18:10.0 is attached to guest 1: detach it first");
        assertThatThrownBy(() -> assignment.attach(GuestId.guest(2), List.of(nic0vf2, PciAddress.parse("0000:55:00.0"))))
                .hasMessageStartingWith("unknown device");
        assertThatThrownBy(() -> assignment.detach(List.of(nic0vf2)))
                .hasMessage("device 0000:18:10.1 is not attached to any guest");

        assertThat(Platform.state(assignment)).isEqualTo(before);
        assertThat(assignment.guests()).singleElement().satisfies(g -> assertThat(g.devices).hasSize(1));
    }
}
