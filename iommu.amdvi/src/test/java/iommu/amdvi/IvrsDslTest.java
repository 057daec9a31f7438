package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The committed binaries are what their sources compile to: the 10h and 11h
 * tables were compiled by iasl, and the project's own compiler gives the same
 * bytes (so the 40h table, which this iasl cannot compile, is compiled the
 * way iasl would).
 */
class IvrsDslTest {

    static String source(String name) throws IOException {
        try (InputStream in = IvrsDslTest.class.getResourceAsStream("/ivrs/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ivrs-10h", "ivrs-11h", "ivrs-40h"})
    void theBinaryIsWhatItsSourceCompilesTo(String name) throws IOException {
        assertThat(IvrsDsl.compile(source(name + ".dsl"))).isEqualTo(IvrsParserTest.table(name + ".aml"));
    }
}
