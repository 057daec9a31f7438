package iommu.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IdsTest {

    @Test
    void guestIdsAreOneTo32751AndZeroIsTheHost() {
        assertThat(GuestId.parse("1").value()).isEqualTo(1);
        assertThat(GuestId.parse("32751").value()).isEqualTo(32751);
        assertThat(GuestId.HOST.isHost()).isTrue();
        assertThatThrownBy(() -> GuestId.parse("0")).hasMessageContaining("host").hasMessageContaining("1..32751");
        assertThatThrownBy(() -> GuestId.parse("32752")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> GuestId.parse("-1")).hasMessageContaining("malformed guest id '-1'");
        assertThatThrownBy(() -> GuestId.parse("seven")).hasMessageContaining("expected a decimal number");
        assertThatThrownBy(() -> GuestId.parse("99999999999")).hasMessageContaining("malformed");
    }

    @Test
    void domainIdsAre16Bits() {
        assertThat(DomainId.of(65535).value()).isEqualTo(65535);
        assertThatThrownBy(() -> DomainId.of(65536)).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> DomainId.of(-1)).hasMessageContaining("out of range");
    }
}
