package iommu.console;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import iommu.api.CoreConfiguration;

/**
 * Writes some properties of iommu.core's configuration (PID
 * {@link CoreConfiguration#PID}) for a launcher option, keeping the others:
 * the one place the launcher's options reach the core through Config Admin.
 */
final class CoreConfigWriter {

    private CoreConfigWriter() {
    }

    /**
     * @param option the launcher option, which the failure line starts with
     * @param what what is passed, as the failure line names it
     * @throws LauncherMain.Exit exit 1 without Config Admin or when the configuration cannot be written
     */
    static void write(ConfigurationAdmin ca, String option, String what, Map<String, ?> values)
            throws LauncherMain.Exit {
        if (ca == null) {
            throw new LauncherMain.Exit(LauncherMain.FAILED, option + ": no Configuration Admin service to pass " + what
                    + " to iommu.core");
        }
        try {
            Configuration config = ca.getConfiguration(CoreConfiguration.PID, "?");
            Dictionary<String, Object> props = config.getProperties() == null ? new Hashtable<>()
                    : config.getProperties();
            values.forEach(props::put);
            config.update(props);
        } catch (IOException e) {
            throw new LauncherMain.Exit(LauncherMain.FAILED, option + ": cannot configure iommu.core: " + e.getMessage());
        }
    }
}
