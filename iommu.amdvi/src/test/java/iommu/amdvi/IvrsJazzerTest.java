package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing (Jazzer) of the IVRS parser: whatever the bytes, it
 * returns a platform or throws an {@link IvrsFormatException} with a one-line
 * message; nothing else escapes.
 *
 * <p>{@code mvn -B verify} runs the regression mode: once per seed in
 * {@code src/test/resources/iommu/amdvi/IvrsJazzerTestInputs/ivrs/}.
 * {@code JAZZER_FUZZ=1} fuzzes for {@code maxDuration} (README.md, "Guarantees").
 */
class IvrsJazzerTest {

    static void parsesOrRefuses(byte[] bytes) {
        try {
            IvrsPlatform platform = IvrsPlatform.parse("fuzz.aml", bytes);
            assertThat(platform.units()).hasSizeLessThanOrEqualTo(platform.table().ivhds().size());
            assertThat(platform.warnings()).allSatisfy(w -> assertThat(w).doesNotContain("\n"));
        } catch (IvrsFormatException e) {
            assertThat(e.getMessage()).startsWith("IVRS fuzz.aml: ").doesNotContain("\n").doesNotContain("\r");
        }
    }

    /**
     * The raw bytes, then the same bytes with the length field and checksum made
     * right, so that the mutations reach the blocks behind the header.
     */
    @FuzzTest(maxDuration = "10m")
    void ivrs(byte[] bytes) {
        parsesOrRefuses(bytes);
        if (bytes.length >= Ivrs.HEADER_LENGTH) {
            byte[] b = Arrays.copyOf(bytes, bytes.length);
            b[4] = (byte) b.length;
            b[5] = (byte) (b.length >>> 8);
            b[6] = (byte) (b.length >>> 16);
            b[7] = (byte) (b.length >>> 24);
            b[9] = 0;
            int sum = 0;
            for (byte x : b) {
                sum += x;
            }
            b[9] = (byte) -sum;
            parsesOrRefuses(b);
        }
    }
}
