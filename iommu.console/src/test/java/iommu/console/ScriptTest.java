package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class ScriptTest {

    @Test
    void commandLineIsSplitAtSemicolons() {
        assertThat(Script.ofCommandLine("iommu:units; iommu:attach 1 0000:3b:00.1 ;iommu:guests --json"))
                .extracting(Script.Command::text)
                .containsExactly("iommu:units", "iommu:attach 1 0000:3b:00.1", "iommu:guests --json");
    }

    @Test
    void semicolonsInQuotesAndClosuresDoNotSplit() {
        assertThat(Script.statements("echo 'a; b'; each [1 2] { echo $it; echo x }"))
                .containsExactly("echo 'a; b'", "each [1 2] { echo $it; echo x }");
    }

    @Test
    void linesSkipBlanksAndCommentsAndKeepLineNumbers() {
        List<Script.Command> cmds = Script.ofLines(List.of(
                "# set up",
                "",
                "   iommu:units  ",
                "iommu:attach 1 0000:3b:00.1; iommu:guests"), "setup.iommu");
        assertThat(cmds).extracting(Script.Command::text)
                .containsExactly("iommu:units", "iommu:attach 1 0000:3b:00.1", "iommu:guests");
        assertThat(cmds).extracting(Script.Command::line).containsExactly(3, 4, 4);
        assertThat(cmds.get(0).where()).isEqualTo("setup.iommu:3: ");
    }

    @Test
    void commandLineCommandsHaveNoLocation() {
        assertThat(Script.ofCommandLine("iommu:units").get(0).where()).isEmpty();
    }

    @Test
    void unbalancedQuotesAreOneLineErrors() {
        assertThatThrownBy(() -> Script.ofLine("echo 'oops", "s.iommu", 7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("s.iommu:7: incomplete command")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
