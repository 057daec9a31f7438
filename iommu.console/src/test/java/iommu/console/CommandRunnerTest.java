package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.junit.jupiter.api.Test;

import iommu.api.FlushService;

/** The launcher without a shell, on the fake platform, as {@code java -jar iommu.jar -c ...} runs it. */
class CommandRunnerTest {

    private final FakeAssignment da = new FakeAssignment();
    private final IommuCommands cmd = new IommuCommands();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    CommandRunnerTest() {
        cmd.assignment = da.api();
        cmd.domainIdMap = da.map();
        cmd.flushService = Fakes.proxy(FlushService.class, new Object());
        cmd.unitServices = List.of(da.unit("dmar0"), da.unit("dmar1"));
        cmd.strategyServices = List::of;
        cmd.discoveryServices = List::of;
    }

    private int run(String commands) throws Exception {
        CommandProcessorImpl processor = new CommandProcessorImpl(new ThreadIOImpl());
        processor.addConverter(new ConsoleConverter());
        for (String name : CommandList.names()) {
            processor.addCommand(CommandList.SCOPE, cmd, name);
        }
        return CommandRunner.run(processor, LaunchOptions.parse("-c", commands),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    /** verify does not print and then throw: the runner prints what its failure carries, then its line. */
    @Test
    void aFailedVerifyListsEachDisagreementOnStdoutThenFailsOnStderr() throws Exception {
        da.problems.add("unit dmar0: domain id 3 is in the strategy's bitmap but held by no guest");
        da.problems.add("device 0000:3b:00.0: context\n entry has domain id 2, the map says 1");
        assertThat(run("iommu:attach 4 0000:3b:00.1; iommu:verify; iommu:units")).isEqualTo(LauncherMain.FAILED);
        assertThat(out.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
                "guest 4: 1 device on 1 unit (dmar0 DID 1)",
                "unit dmar0: domain id 3 is in the strategy's bitmap but held by no guest",
                "device 0000:3b:00.0: context entry has domain id 2, the map says 1")
                .noneMatch(l -> l.startsWith("UNIT")); // the run stopped at verify
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("verify: 2 disagreements between the map, the"
                + " strategy's bitmaps and the units' context entries (listed above)" + System.lineSeparator());
    }

    @Test
    void resultsPrintAsTheirTextAndJsonAsJson() throws Exception {
        assertThat(run("iommu:verify; iommu:guests; iommu:guests --json")).isEqualTo(LauncherMain.OK);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(
                "ok: map, strategy bitmaps and 2 units' context entries agree" + System.lineSeparator()
                        + "no guest holds a device" + System.lineSeparator()
                        + "[]" + System.lineSeparator());
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
