package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void columnsAreAlignedToTheWidestCellAndNumbersRightAligned() {
        String s = new Table("UNIT", "DIDS", "GUEST").alignRight(1)
                .row("dmar0", 256, 1)
                .row("dmar10", 65536, null)
                .render();
        assertThat(s).isEqualTo(String.join("\n",
                "UNIT     DIDS  GUEST",
                "dmar0     256  1",
                "dmar10  65536  -"));
    }

    @Test
    void noTrailingBlanksNorNewline() {
        String s = new Table("A", "B").row("xxxx", "").row("y", "z").render();
        for (String line : s.split("\n")) {
            assertThat(line).doesNotEndWith(" ");
        }
        assertThat(s).doesNotEndWith("\n");
    }

    @Test
    void headerOnlyWhenEmpty() {
        assertThat(new Table("BDF", "UNIT").render()).isEqualTo("BDF  UNIT");
    }

    @Test
    void rowWithWrongNumberOfCellsIsRefused() {
        assertThatThrownBy(() -> new Table("A", "B").row("x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected 2");
    }
}
