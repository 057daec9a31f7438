package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real interactive prompt, driven through a pseudo-terminal as a person
 * types at it: {@code script} (util-linux) gives {@code java -jar iommu.jar}
 * a terminal, this test types keys into it (TAB included) and reads the
 * screen back, escape sequences removed and backspaces applied.
 */
class InteractiveShellIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path home;

    private Process process;
    private OutputStream keys;
    private final StringBuffer screen = new StringBuffer();
    /** Where the next expectation starts looking, in the normalized screen. */
    private int mark;

    private void start() throws IOException {
        Path script = Paths.get("/usr/bin/script");
        Assumptions.assumeTrue(Files.isExecutable(script), "util-linux script is needed to give the shell a terminal");
        Path jar = Paths.get(System.getProperty("iommu.jar", "target/iommu.jar")).toAbsolutePath();
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        // a known size: JLine lays out completion lists by it; user.home: the shell's history file
        String command = "stty cols 160 rows 50; exec '" + java + "' -Duser.home='" + home + "' -jar '" + jar + "'";
        process = new ProcessBuilder(script.toString(), "-qfec", command, "/dev/null")
                .redirectErrorStream(true)
                .start();
        keys = process.getOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = process.getInputStream()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    screen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "pty reader");
        reader.setDaemon(true);
        reader.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void bannerHelpCompletionAttachAndATable() throws Exception {
        start();
        String banner = await("iommu> ");
        assertThat(banner).contains("IOMMU domain-id platform", "platform: embedded default platform",
                "units:    5 units", "strategy: per-unit", "state:    ephemeral", "TAB completes");

        type("help\r");
        assertThat(await("iommu> ")).contains("iommu:attach", "iommu:occupancy", "iommu:capacity", "scr:list");

        type("help capacity\r");
        assertThat(await("iommu> ")).contains("capacity - plan: how many guests each strategy admits",
                "--devices-per-guest");

        // TAB completes a BDF that only one device has: 0000:19:00.0, NVMe drive 0 under dmar0
        type("attach 1 0000:19:0\t");
        assertThat(await("0000:19:00.0 ")).endsWith("attach 1 0000:19:00.0 ");
        type("\r");
        String attached = await("iommu> ");
        assertThat(attached).contains("guest 1: 1 device on 1 unit (dmar0 DID 2)")
                .containsPattern("GUEST\\s+BDF\\s+UNIT\\s+DID")
                .containsPattern("\\n\\s+1\\s+0000:19:00\\.0\\s+dmar0\\s+2");

        type("domains dmar0\r");
        assertThat(await("iommu> ")).containsPattern("DID\\s+GUEST\\s+DEVICES\\s+BDF")
                .containsPattern("\\n\\s+2\\s+1\\s+1\\s+0000:19:00\\.0");

        type("units\r");
        assertThat(await("iommu> ")).containsPattern("UNIT\\s+VENDOR\\s+SEGMENT")
                .containsPattern("dmar0\\s+vt-d\\s+0000\\s+0xe0ffc000");

        // an error is one line in the console's style, and the shell goes on
        type("unit dmar77\r");
        String error = await("iommu> ");
        assertThat(error).contains("no unit matches 'dmar77': expected one of dmar0").doesNotContain("Exception", "\tat ");

        type("exit\r");
        assertThat(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the shell exits").isTrue();
        assertThat(process.exitValue()).isZero();
    }

    private void type(String text) throws IOException {
        keys.write(text.getBytes(StandardCharsets.UTF_8));
        keys.flush();
    }

    /**
     * Waits until the normalized screen shows {@code text} after the previous
     * mark; returns what appeared since the mark, up to and including it.
     */
    private String await(String text) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String s = normalize(screen.toString());
            int at = s.indexOf(text, mark);
            if (at >= 0) {
                String seen = s.substring(mark, at + text.length());
                mark = at + text.length();
                return seen;
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("the screen did not show '" + text + "' (process "
                        + (process.isAlive() ? "running" : "ended with " + process.exitValue()) + "); it shows:\n"
                        + s.substring(Math.min(mark, s.length())));
            }
            Thread.sleep(50);
        }
    }

    /** The terminal output as text: escape sequences removed, backspaces applied, carriage returns dropped. */
    static String normalize(String raw) {
        String s = raw.replaceAll("\u001B\\[[0-9;?]*[ -/]*[@-~]", "")
                .replaceAll("\u001B[=>]", "")
                .replaceAll("\u001B\\][^\u0007]*\u0007", "");
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\b') {
                if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
                    out.setLength(out.length() - 1);
                }
            } else if (c != '\r') {
                out.append(c);
            }
        }
        return out.toString();
    }

    @Test
    void normalizeAppliesBackspacesAndDropsEscapes() {
        assertThat(normalize("\u001B[91mc\u001B[0m\u001B[91mt\u001B[0m\b\b\u001B[94mctx\u001B[0m\u001B[K 0000\b\b\b\b0000:19:00.0\r\n"))
                .isEqualTo("ctx 0000:19:00.0\n");
        assertThat(List.of(normalize("\u001B[?1h\u001B=iommu> "))).containsExactly("iommu> ");
    }
}
