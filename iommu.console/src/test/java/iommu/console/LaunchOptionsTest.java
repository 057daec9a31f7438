package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LaunchOptionsTest {

    @TempDir
    Path dir;

    @Test
    void noArgumentsMeansShellOrStdin() throws Exception {
        LaunchOptions o = LaunchOptions.parse();
        assertThat(o.hasCommands()).isFalse();
        assertThat(o.help()).isFalse();
        assertThat(o.debug()).isFalse();
        assertThat(o.strategy()).isEmpty();
    }

    @Test
    void commandsStrategyAndDebug() throws Exception {
        LaunchOptions o = LaunchOptions.parse("--strategy", "global", "-c", "iommu:units; iommu:guests", "--debug");
        assertThat(o.commands()).containsExactly("iommu:units; iommu:guests");
        assertThat(o.strategy()).contains("global");
        assertThat(o.debug()).isTrue();
        assertThat(o.hasCommands()).isTrue();
    }

    @Test
    void longOptionsTakeInlineValues() throws Exception {
        LaunchOptions o = LaunchOptions.parse("--strategy=per-unit", "--command=iommu:units");
        assertThat(o.strategy()).contains("per-unit");
        assertThat(o.commands()).containsExactly("iommu:units");
    }

    @Test
    void repeatedDashCAppends() throws Exception {
        assertThat(LaunchOptions.parse("-c", "a", "-c", "b").commands()).containsExactly("a", "b");
    }

    @Test
    void scriptFileMustExist() throws Exception {
        Path script = Files.writeString(dir.resolve("s.iommu"), "iommu:units\n");
        assertThat(LaunchOptions.parse(script.toString()).script()).contains(script);
        assertThatThrownBy(() -> LaunchOptions.parse(dir.resolve("missing").toString()))
                .isInstanceOf(LaunchOptions.UsageException.class)
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> LaunchOptions.parse(dir.toString()))
                .hasMessageContaining("is a directory");
    }

    @Test
    void dashDashEndsOptions() throws Exception {
        Path script = Files.writeString(dir.resolve("-odd"), "iommu:units\n");
        assertThat(LaunchOptions.parse("--", script.toString()).script()).contains(script);
    }

    @Test
    void rebuildTablesGoesWithAStateDirectoryOnly() throws Exception {
        assertThat(LaunchOptions.parse("--state", "/tmp/s", "--rebuild-tables").rebuildTables()).isTrue();
        assertThat(LaunchOptions.parse("--state", "/tmp/s").rebuildTables()).isFalse();
        assertThatThrownBy(() -> LaunchOptions.parse("--rebuild-tables", "-c", "state"))
                .isInstanceOf(LaunchOptions.UsageException.class)
                .hasMessage("option --rebuild-tables needs --state DIR: expected the state directory whose journal the"
                        + " tables are rebuilt from");
        assertThatThrownBy(() -> LaunchOptions.parse("--state", "/tmp/s", "--rebuild-tables=yes"))
                .hasMessage("option --rebuild-tables takes no value, got 'yes'");
    }

    @Test
    void unknownOptionIsAUsageErrorWithHint() {
        assertThatThrownBy(() -> LaunchOptions.parse("--frobnicate"))
                .isInstanceOfSatisfying(LaunchOptions.UsageException.class, e -> assertThat(e.hint()).isTrue())
                .hasMessage("unknown option '--frobnicate'");
    }

    @Test
    void missingValueIsAUsageError() {
        assertThatThrownBy(() -> LaunchOptions.parse("--strategy"))
                .isInstanceOf(LaunchOptions.UsageException.class)
                .hasMessageContaining("--strategy needs a value");
        assertThatThrownBy(() -> LaunchOptions.parse("-c"))
                .hasMessageContaining("-c needs a value");
    }

    @Test
    void flagsTakeNoValue() {
        assertThatThrownBy(() -> LaunchOptions.parse("--debug=yes"))
                .hasMessageContaining("takes no value");
    }

    @Test
    void twoScriptsOrScriptAndCommandsAreRefused() throws Exception {
        Path a = Files.writeString(dir.resolve("a"), "");
        Path b = Files.writeString(dir.resolve("b"), "");
        assertThatThrownBy(() -> LaunchOptions.parse(a.toString(), b.toString()))
                .hasMessageContaining("at most one script file");
        assertThatThrownBy(() -> LaunchOptions.parse("-c", "iommu:units", a.toString()))
                .hasMessageContaining("expected one of them");
    }

    @Test
    void helpWinsOverEverythingElse() throws Exception {
        assertThat(LaunchOptions.parse("-c", "x", "--help", "missing-file").help()).isTrue();
        assertThat(LaunchOptions.parse("-h").help()).isTrue();
        assertThat(LaunchOptions.USAGE).contains("--strategy NAME", "-c, --command", "--platform", "--state");
    }

    @Test
    void platformIsCheckedAndStateNotAvailableYet() throws Exception {
        Path file = Files.writeString(dir.resolve("platform.txt"), "iommu-platform 1\n");
        LaunchOptions ok = LaunchOptions.parse("--platform", file.toString());
        ok.checkAvailable(); // the launcher loads it after start-up
        assertThat(ok.platform()).contains(file);

        LaunchOptions.UsageException e = null;
        try {
            LaunchOptions.parse("--platform", dir.resolve("nope").toString()).checkAvailable();
        } catch (LaunchOptions.UsageException x) {
            e = x;
        }
        assertThat(e).isNotNull().hasMessageContaining("not found").hasMessageContaining("expected a DMAR table");
        assertThat(e.hint()).isFalse();
        assertThatThrownBy(() -> LaunchOptions.parse("--state", file.toString()).checkAvailable())
                .hasMessageContaining("not a directory");
        LaunchOptions state = LaunchOptions.parse("--state", dir.toString());
        state.checkAvailable(); // the launcher hands it to iommu.core after start-up
        assertThat(state.state()).contains(dir);
    }

    @Test
    void repeatedStrategyIsRefused() {
        assertThatThrownBy(() -> LaunchOptions.parse("--strategy", "global", "--strategy", "per-unit"))
                .hasMessageContaining("given twice");
    }

    @Test
    void hostDomainTakesOneOfItsModesOnly() throws Exception {
        assertThat(LaunchOptions.parse("--host-domain", "none").hostDomain()).contains("none");
        assertThat(LaunchOptions.parse("--host-domain=allocated").hostDomain()).contains("allocated");
        assertThat(LaunchOptions.parse().hostDomain()).isEmpty();
        assertThatThrownBy(() -> LaunchOptions.parse("--host-domain", "dom0"))
                .hasMessage("option --host-domain 'dom0' unknown: expected linux, allocated or none");
        assertThatThrownBy(() -> LaunchOptions.parse("--host-domain", "none", "--host-domain", "linux"))
                .hasMessageContaining("given twice");
    }
}
