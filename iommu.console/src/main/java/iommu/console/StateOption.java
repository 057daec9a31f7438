package iommu.console;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.osgi.service.cm.ConfigurationAdmin;

import iommu.api.CoreConfiguration;
import iommu.api.DeviceAssignment;
import iommu.api.Quoted;
import iommu.api.dto.StateDTO;
import iommu.api.spi.PlatformDiscovery;
import iommu.api.spi.support.StateDirectoryLock;

/**
 * The launcher's {@code --state DIR [--rebuild-tables]}: the directory is
 * locked first (one process at a time; the framework's core and units share
 * the lock), then each vendor keeps its units' tables there
 * ({@link PlatformDiscovery#keepTablesIn}: VT-d in {@code DIR/vtd}, units
 * inheriting what their files hold), then the core keeps its journal there
 * (configuration PID iommu.core, property stateDirectory) and reconciles it
 * with the tables. With {@code --rebuild-tables} the core comes first, so a
 * directory without a whole journal is refused before any file is set aside;
 * the vendors then set refused table files aside, and the core writes the
 * journal's assignments on the new ones. Whatever cannot be used: exit 1 with
 * the line that says why.
 */
final class StateOption {

    private final Supplier<List<PlatformDiscovery>> discoveries;
    private final Supplier<ConfigurationAdmin> configAdmin;
    private final Supplier<DeviceAssignment> assignment;
    /** Whom the lock is shared with: this framework. */
    private final String owner;

    StateOption(Supplier<List<PlatformDiscovery>> discoveries, Supplier<ConfigurationAdmin> configAdmin,
            Supplier<DeviceAssignment> assignment, String owner) {
        this.discoveries = discoveries;
        this.configAdmin = configAdmin;
        this.assignment = assignment;
        this.owner = owner;
    }

    /** @return the directory's lock, for the launcher to hold until the run ends */
    StateDirectoryLock load(Path dir, boolean rebuild, long deadline, PrintStream err) throws LauncherMain.Exit {
        String option = "--state " + Quoted.of(dir.toString(), 256) + (rebuild ? " --rebuild-tables" : "");
        String wanted;
        try {
            java.nio.file.Files.createDirectories(dir);
            wanted = dir.toAbsolutePath().normalize().toString();
        } catch (java.io.IOException | RuntimeException e) {
            throw new LauncherMain.Exit(LauncherMain.BAD_ARGUMENTS, "--state " + Quoted.of(dir.toString(), 256)
                    + ": cannot create the directory: " + e.getMessage());
        }
        StateDirectoryLock lock;
        try {
            // before anything in it is read: another process may be writing it
            lock = StateDirectoryLock.acquire(Path.of(wanted), owner, "launcher");
        } catch (RuntimeException e) {
            throw new LauncherMain.Exit(LauncherMain.FAILED, option + ": " + Errors.message(e));
        }
        try {
            if (rebuild) {
                configureCore(wanted, true, deadline, option);
            }
            // the units' tables first: they come up on what their files kept, before the core reads its
            // journal, so that it compares the two and reports where they disagree
            for (PlatformDiscovery discovery : discoveries.get()) {
                try {
                    discovery.keepTablesIn(Path.of(wanted), rebuild).ifPresent(dto -> {
                        if (dto.warnings != null) {
                            dto.warnings.forEach(w -> err.println("--state " + dir + ": warning: "
                                    + CoreText.oneLine(w)));
                        }
                    });
                } catch (RuntimeException e) {
                    throw new LauncherMain.Exit(LauncherMain.FAILED, option + ": " + discovery.vendor() + " units: "
                            + Errors.message(e));
                }
            }
            if (!rebuild) {
                configureCore(wanted, false, deadline, option);
            }
            return lock;
        } catch (LauncherMain.Exit e) {
            lock.close();
            throw e;
        }
    }

    /** The core keeps its journal in the directory; exit 1 with its first problem when it does not take it up. */
    private void configureCore(String wanted, boolean rebuild, long deadline, String option) throws LauncherMain.Exit {
        ConfigurationAdmin ca = LauncherMain.await(deadline, () -> configAdmin.get() != null) ? configAdmin.get()
                : null;
        CoreConfigWriter.write(ca, "--state", "the state directory", Map.of(CoreConfiguration.STATE_DIRECTORY, wanted,
                CoreConfiguration.REBUILD_TABLES, rebuild));
        boolean settled = LauncherMain.await(deadline, () -> {
            DeviceAssignment d = assignment.get();
            if (d == null) {
                return false;
            }
            StateDTO state = d.state();
            return wanted.equals(state.directory) || (state.directory == null && !state.problems.isEmpty());
        });
        DeviceAssignment d = assignment.get();
        StateDTO state = d == null ? null : d.state();
        if (!settled || state == null || !wanted.equals(state.directory)) {
            String why = state == null || state.problems.isEmpty() ? "iommu.core did not take it up within "
                    + StrategySwitch.seconds(LauncherMain.STARTUP_TIMEOUT) : CoreText.oneLine(state.problems.get(0));
            throw new LauncherMain.Exit(LauncherMain.FAILED, option + ": " + why);
        }
    }
}
