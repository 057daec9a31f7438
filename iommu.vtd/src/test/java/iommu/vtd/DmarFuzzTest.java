package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Whatever bytes it is given, the DMAR parser either returns a table whose
 * units can be built or refuses it with a {@link DmarFormatException}: no
 * other exception escapes, whatever the mutation. Mutations keep the checksum
 * right, so that they reach the structures.
 */
class DmarFuzzTest {

    static final byte[] SERVER = DmarBytes.resource("server-two-segments.dat");
    static final byte[] CLIENT = DmarBytes.resource("client-satc.dat");

    static void parsesOrRefuses(byte[] bytes) {
        try {
            DmarTable table = DmarParser.parse("fuzz.dat", bytes);
            Platform platform = DmarUnits.platform(table, PciInventory.empty());
            assertThat(platform.units()).hasSizeLessThanOrEqualTo(table.drhds().size());
            assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).doesNotContain("\n"));
        } catch (DmarFormatException e) {
            assertThat(e.getMessage()).startsWith("fuzz.dat: ").contains("expected").doesNotContain("\n");
        }
    }

    @Property(tries = 3000)
    void anyByteChangedInTheServerTable(@ForAll @IntRange(min = 0, max = 0x14c) int offset,
            @ForAll @IntRange(min = 0, max = 255) int value) {
        parsesOrRefuses(DmarBytes.with(SERVER, offset, 1, value));
    }

    @Property(tries = 1000)
    void anyByteChangedInTheClientTable(@ForAll @IntRange(min = 0, max = 0xb7) int offset,
            @ForAll @IntRange(min = 0, max = 255) int value) {
        parsesOrRefuses(DmarBytes.with(CLIENT, offset, 1, value));
    }

    @Property(tries = 500)
    void anyTruncationWithTheLengthFieldFollowing(@ForAll @IntRange(min = 0, max = 0x14d) int length) {
        byte[] cut = Arrays.copyOf(SERVER, length);
        parsesOrRefuses(cut);
        if (length >= 10) {
            parsesOrRefuses(DmarBytes.with(cut, 4, 4, length));
        }
    }
}
