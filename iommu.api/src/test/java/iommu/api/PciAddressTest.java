package iommu.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class PciAddressTest {

    @Test
    void parsesAndPrintsTheLinuxForm() {
        PciAddress a = PciAddress.parse("0000:3b:00.1");
        assertThat(a).isEqualTo(new PciAddress(0, 0x3b, 0, 1));
        assertThat(a).hasToString("0000:3b:00.1");
        assertThat(a.routingId()).isEqualTo(0x3b01);
        assertThat(a.devfn()).isEqualTo(1);
        assertThat(PciAddress.parse("3b:1f.7")).isEqualTo(new PciAddress(0, 0x3b, 0x1f, 7));
        assertThat(PciAddress.parse("0001:FF:1F.7")).hasToString("0001:ff:1f.7");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0000:3b:00", "0000:3b:00.8", "0000:3b:20.0", "0000:3b:0g.0", "00000:3b:00.0",
            "0000:13b:00.0", "0000-3b-00.0", "host", "0000:3b:00.1 extra"})
    void rejectsMalformedAddressesInOneLine(String text) {
        assertThatThrownBy(() -> PciAddress.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").containsAnyOf("expected", "out of range"));
    }

    @Test
    void echoesHostileInputOnOneLine() {
        assertThatThrownBy(() -> PciAddress.parse("0000:3b:00.1\nsecond line\u0007"))
                .hasMessage("malformed PCI address '0000:3b:00.1\\nsecond line\\u0007': expected SSSS:BB:DD.F in "
                        + "hexadecimal, e.g. 0000:3b:00.1");
        assertThatThrownBy(() -> GuestId.parse("1\r\n2")).hasMessageNotContaining("\n").hasMessageContaining("'1\\r\\n2'");
        assertThatThrownBy(() -> PciAddress.parse("x".repeat(500))).satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> PciAddress.parse(null)).hasMessageContaining("expected SSSS:BB:DD.F");
    }

    @Property
    void routingIdRoundTrips(@ForAll @IntRange(min = 0, max = 0xFFFF) int segment,
            @ForAll @IntRange(min = 0, max = 0xFFFF) int rid) {
        PciAddress a = PciAddress.ofRoutingId(segment, rid);
        assertThat(a.routingId()).isEqualTo(rid);
        assertThat(PciAddress.parse(a.toString())).isEqualTo(a);
    }
}
