package iommu.api.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.List;

import org.junit.jupiter.api.Test;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class DomainIdBitmapTest {

    @Test
    void handsOutTheLowestFreeIdAndNothingBeyondTheSize() {
        DomainIdBitmap b = new DomainIdBitmap(70);
        b.set(0);
        for (int i = 1; i < 70; i++) {
            assertThat(b.allocateLowest()).isEqualTo(i);
        }
        assertThat(b.allocateLowest()).isEqualTo(-1);
        assertThat(b.used()).isEqualTo(70);
        b.clear(33);
        assertThat(b.lowestFree()).isEqualTo(33);
    }

    @Test
    void refusesDoubleSetDoubleClearAndOutOfRange() {
        DomainIdBitmap b = new DomainIdBitmap(256);
        b.set(5);
        assertThatThrownBy(() -> b.set(5)).hasMessageContaining("already in use");
        assertThatThrownBy(() -> b.clear(6)).hasMessageContaining("not in use");
        assertThatThrownBy(() -> b.set(256)).hasMessageContaining("0..255");
        assertThat(b.used()).isEqualTo(1);
    }

    /** Against a plain BitSet as the reference: same lowest free id after any sequence of operations. */
    @Property(tries = 300)
    void agreesWithAPlainBitSet(@ForAll @IntRange(min = 1, max = 5000) int size,
            @ForAll("operations") List<Integer> ops) {
        DomainIdBitmap b = new DomainIdBitmap(size);
        BitSet reference = new BitSet();
        for (int op : ops) {
            int id = Math.floorMod(op, size);
            if (op % 3 == 0) {
                int got = b.allocateLowest();
                int expected = reference.nextClearBit(0);
                if (expected >= size) {
                    assertThat(got).isEqualTo(-1);
                } else {
                    assertThat(got).isEqualTo(expected);
                    reference.set(expected);
                }
            } else if (reference.get(id)) {
                b.clear(id);
                reference.clear(id);
            } else {
                b.set(id);
                reference.set(id);
            }
            assertThat(b.used()).isEqualTo(reference.cardinality());
        }
        assertThat(b.toBitSet()).isEqualTo(reference);
    }

    @Provide
    Arbitrary<List<Integer>> operations() {
        return Arbitraries.integers().between(0, 1_000_000).list().ofMaxSize(400);
    }
}
