package iommu.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class QuotedTest {

    @Test
    void controlCharactersAndSeparatorsAreEscaped() {
        assertThat(Quoted.of("a\nb\r\tc\u0000\u0085\u2028")).isEqualTo("'a\\nb\\r\\tc\\u0000\\u0085\\u2028'");
        assertThat(Quoted.of(null)).isEqualTo("null");
    }

    @Test
    void longInputIsCut() {
        assertThat(Quoted.of("x".repeat(100))).isEqualTo("'" + "x".repeat(64) + "...'");
        assertThat(Quoted.of("x".repeat(100), 80)).isEqualTo("'" + "x".repeat(80) + "...'");
        assertThat(Quoted.of("x".repeat(64))).isEqualTo("'" + "x".repeat(64) + "'");
    }

    /** Found by ConsoleArgumentsFuzzTest (seed "unicode"): the cut left half of an emoji, an unpaired surrogate. */
    @Test
    void theCutDoesNotSplitASurrogatePair() {
        String q = Quoted.of("1".repeat(63) + "\uD83D\uDE00");
        assertThat(q).isEqualTo("'" + "1".repeat(63) + "...'");
        assertThat(Quoted.of("1".repeat(62) + "\uD83D\uDE00")).isEqualTo("'" + "1".repeat(62) + "\uD83D\uDE00'");
    }

    /** Found by ConsoleArgumentsFuzzTest: a path of 256 NULs, each shown as six characters, made a 1,700-character line. */
    @Test
    void escapesCountTowardsTheLimit() {
        assertThat(Quoted.of("\0".repeat(300), 256)).isEqualTo("'" + "\\u0000".repeat(42) + "...'");
        assertThat(Quoted.of("a\nb".repeat(30))).hasSize(64 + 5).startsWith("'a\\nba\\nb").endsWith("...'");
        assertThat(Quoted.of("\n".repeat(32))).isEqualTo("'" + "\\n".repeat(32) + "'");
    }

    @Test
    void unpairedSurrogatesAreEscapedPairsKept() {
        assertThat(Quoted.of("a\uD83Db")).isEqualTo("'a\\ud83db'");
        assertThat(Quoted.of("a\uDE00")).isEqualTo("'a\\ude00'");
        assertThat(Quoted.of("dm\u00e4r \uD83D\uDE00")).isEqualTo("'dm\u00e4r \uD83D\uDE00'");
    }

    /** A right-to-left override would show the rest of the error line reversed. */
    @Test
    void bidirectionalControlsAreEscaped() {
        assertThat(Quoted.of("gl\u00f6bal\u202e")).isEqualTo("'gl\u00f6bal\\u202e'");
        assertThat(Quoted.of("\u2066x\u2069\u200f")).isEqualTo("'\\u2066x\\u2069\\u200f'");
    }
}
