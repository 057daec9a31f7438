package iommu.api.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.IommuException;

/**
 * One writer per state directory: the components of one framework share it,
 * anything else (a second holder of one name, another framework of this
 * process, another process) is refused with one line naming the directory
 * and who has it.
 */
class StateDirectoryLockTest {

    @TempDir
    Path dir;

    @Test
    void theComponentsOfOneFrameworkShareTheDirectoryAndTheLastOneLetsItGo() throws Exception {
        Path state = dir.resolve("state");
        StateDirectoryLock launcher = StateDirectoryLock.acquire(state, "framework A", "the launcher");
        StateDirectoryLock core = StateDirectoryLock.acquire(state, "framework A", "iommu.core");
        assertThat(core.directory()).isEqualTo(state.toRealPath());
        assertThat(Files.readString(state.resolve(StateDirectoryLock.FILE)))
                .isEqualTo(StateDirectoryLock.self() + "\n").startsWith("pid " + ProcessHandle.current().pid());
        launcher.close();
        assertThatThrownBy(() -> StateDirectoryLock.acquire(state, "framework B", "iommu.core"))
                .isInstanceOf(IommuException.class);
        core.close();
        core.close(); // idempotent
        StateDirectoryLock.acquire(state, "framework B", "iommu.core").close();
        assertThat(state.resolve(StateDirectoryLock.FILE)).exists(); // never deleted
    }

    @Test
    void aSecondHolderOfOneNameOrAnotherFrameworkIsRefusedInOneLine() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolveSibling(dir.getFileName() + "-link"), dir);
        try (StateDirectoryLock core = StateDirectoryLock.acquire(dir, "framework A", "iommu.core")) {
            assertThatThrownBy(() -> StateDirectoryLock.acquire(dir, "framework A", "iommu.core"))
                    .hasMessage("state directory " + dir + " is in use by another iommu.core of this framework ("
                            + StateDirectoryLock.self() + "): one process at a time may use it; wait for that one"
                            + " to end, or use another directory");
            // another path to the same directory is the same directory
            assertThatThrownBy(() -> StateDirectoryLock.acquire(link, "framework B", "iommu.core"))
                    .hasMessageStartingWith("state directory " + link
                            + " is in use by another framework of this process (pid ");
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void anotherProcessIsRefusedNamingTheHoldersPidAndStartTime() throws Exception {
        Process holder = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Holder.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("locked");
            String start = holder.info().startInstant().map(t -> t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                    .toString()).orElse("?");
            assertThatThrownBy(() -> StateDirectoryLock.acquire(dir, "framework A", "iommu.core"))
                    .hasMessage("state directory " + dir + " is in use by process " + holder.pid() + " (started "
                            + start + "): one process at a time may use it; wait for that one to end, or use another"
                            + " directory");
            assertThat(Files.readString(dir.resolve(StateDirectoryLock.FILE))).startsWith("pid " + holder.pid());
        } finally {
            holder.getOutputStream().close(); // it lets go and ends
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        StateDirectoryLock.acquire(dir, "framework A", "iommu.core").close();
    }

    /** Another process holding the directory until its stdin closes. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            try (StateDirectoryLock lock = StateDirectoryLock.acquire(Path.of(args[0]), "child", "holder")) {
                System.out.println("locked");
                System.out.flush();
                System.in.read();
            }
        }
    }
}
