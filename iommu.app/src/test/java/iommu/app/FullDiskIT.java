package iommu.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * Issue 16: {@code --state DIR} on a file system that fills up, a 6 MiB
 * tmpfs (mounted by the test: it needs root, and is skipped, saying why,
 * where it cannot mount one). Before the fix a table page written into a
 * hole tmpfs could not back raised SIGBUS ("a fault occurred in a recent
 * unsafe memory access operation"). Now: the operation that needs the space
 * fails with one line naming the directory and "no space left", exit 1;
 * with the disk quite full the directory is not even taken up (the journal's
 * snapshot cannot be written), exit 1 again; once there is space the next run
 * opens it, {@code verify} passes, no disagreement is reported, everything
 * acknowledged is there, page by page, and the refused map is not.
 */
class FullDiskIT {

    @TempDir
    Path dir;
    Path mount;

    @BeforeEach
    void mountASmallFileSystem() throws Exception {
        mount = Files.createDirectory(dir.resolve("small"));
        String why = command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mount.toString());
        if (why != null) {
            System.out.println("FullDiskIT skipped: cannot mount a tmpfs to fill (" + why + ")");
        }
        Assumptions.assumeTrue(why == null, "cannot mount a tmpfs to fill: " + why);
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) {
            command("umount", mount.toString());
        }
    }

    /** Runs a command; null when it succeeded, else what it said. */
    static String command(String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }

    @Test
    void runningOutOfSpaceFailsTheOperationInOneLineAndTheDirectoryOpensOnceThereIsSpace() throws Exception {
        Path state = mount.resolve("state");
        // 5 units' table files take 5 MiB; 200,000 pages of guest 1 need 400 more table pages on dmar0
        IommuJarIT.Run full = IommuJarIT.run("--state", state.toString(), "-c", "iommu:attach 1 0000:18:10.0;"
                + " iommu:map 1 0x10000 0x7f000000 4; iommu:map 1 0x40000000 0x10000000 200000; iommu:attach 2"
                + " 0000:3b:00.2");
        assertThat(full.exit()).as(full.err()).isEqualTo(1);
        assertThat(full.errLines()).singleElement().asString().isEqualTo("state directory " + state + ": no space"
                + " left on its file system for unit dmar0's table file vtd/vtd-0000-00000000e0ffc000.tables"
                + " (growing it to 2 MiB): nothing was written to it");
        assertThat(full.out()).contains("mapped 4 pages of guest 1").doesNotContain("guest 2");

        fill(mount);
        IommuJarIT.Run quiteFull = IommuJarIT.run("--state", state.toString(), "-c", "iommu:attach 2 0000:3b:00.2");
        assertThat(quiteFull.exit()).as(quiteFull.err()).isEqualTo(1);
        assertThat(quiteFull.errLines()).singleElement().asString().isEqualTo("--state '" + state + "': state"
                + " directory " + state + ": no space left on its file system for a snapshot of the journal: the"
                + " directory is not taken up; its journal is as it was");

        assertThat(command("mount", "-o", "remount,size=64m", mount.toString())).isNull();
        StringBuilder probes = new StringBuilder("iommu:verify; iommu:state --json; iommu:guests;");
        for (int page = 0; page < 4; page++) {
            probes.append(String.format(" iommu:translate 0000:18:10.0 0x%x;", 0x10000 + page * 0x1000));
        }
        probes.append(" iommu:translate 0000:18:10.0 0x40000000");
        IommuJarIT.Run back = IommuJarIT.run("--state", state.toString(), "-c", probes.toString());
        assertThat(back.exit()).as(back.err()).isZero();
        List<String> lines = back.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("ok: map, strategy bitmaps and 5 units' context entries agree");
        String json = back.out().substring(back.out().indexOf('\n') + 1, back.out().indexOf("\n}") + 2);
        assertThat(JsonParser.parseString(json).getAsJsonObject().get("problems").getAsJsonArray()).isEmpty();
        List<String> after = back.out().substring(back.out().indexOf("\n}") + 3).lines().toList();
        assertThat(after).containsExactly("GUEST  BDF           UNIT   DID", "    1  0000:18:10.0  dmar0    2",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x10000 -> host 0x7f000000",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x11000 -> host 0x7f001000",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x12000 -> host 0x7f002000",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x13000 -> host 0x7f003000",
                "0000:18:10.0 on dmar0 (guest 1, DID 2): IOVA 0x40000000 -> fault 0x6: dmar0: [DMA Read] Request"
                        + " device [0000:18:10.0] fault addr 0x40000000 [fault reason 0x06] PTE Read access is not"
                        + " set");
    }

    /** Writes a file until the file system has no byte left. */
    static void fill(Path mount) throws IOException {
        try (OutputStream out = Files.newOutputStream(mount.resolve("filler"))) {
            byte[] block = new byte[64 * 1024];
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            assertThat(e.getMessage()).contains("No space left on device");
        }
    }
}
