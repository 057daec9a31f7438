package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.Invalidation;

class StandaloneUnitTest {

    static final PciAddress NIC = PciAddress.parse("0000:03:00.0");
    static final PciAddress OTHER = PciAddress.parse("0000:04:00.0");

    @Test
    void translatesItsEndpointsOnly() {
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xd2008c40660462L, 0xf050daL, List.of(NIC));
        assertThat(unit.id()).isEqualTo("dmar9");
        assertThat(unit.devices()).containsExactly(NIC);
        unit.setContext(NIC, new DeviceContext(DomainId.of(3), GuestId.guest(1)));
        unit.map(GuestId.guest(1), 0x1000, 0x5000, 1);
        assertThat(unit.translate(NIC, 0x1000).hostAddress()).hasValue(0x5000L);
        assertThatThrownBy(() -> unit.setContext(OTHER, new DeviceContext(DomainId.of(3), GuestId.guest(1))))
                .hasMessageContaining("no such device");

        unit.holdInvalidations();
        var stage = unit.invalidate(List.of(new Invalidation.Domain(DomainId.of(3)))).toCompletableFuture();
        assertThat(stage).isNotDone();
        unit.releaseInvalidations();
        assertThat(stage).isCompleted();
    }

    @Test
    void takesAVersion() {
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xfed9_1000L, 0xd2008c40660462L, 0xf050d8L,
                Registers.version(6, 0), List.of(NIC));
        assertThat(unit.invalidationMechanism()).isEqualTo("none");
        assertThat(unit.readRegister(Registers.VER, 4)).isEqualTo(0x60);
    }

    @Test
    void aUnitWithoutAKnownAddressWidthRefusesTablesButStillInvalidates() {
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xd2008c40660062L, 0xf050daL, List.of(NIC)); // SAGAW 0
        String expected = "unit dmar9 cannot translate: CAP.SAGAW 0x0 names no address width of 30, 39, 48 or 57 bits";
        assertThatThrownBy(() -> unit.setContext(NIC, new DeviceContext(DomainId.of(3), GuestId.guest(1))))
                .isInstanceOf(IllegalStateException.class).hasMessage(expected);
        assertThatThrownBy(() -> unit.map(GuestId.guest(1), 0, 0x5000, 1)).hasMessage(expected);
        assertThat(unit.context(NIC)).isEmpty();
        assertThat(unit.invalidate(List.of(new Invalidation.Global())).toCompletableFuture()).isCompleted();
    }
}
