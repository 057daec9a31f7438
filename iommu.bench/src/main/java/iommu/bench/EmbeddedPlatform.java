package iommu.bench;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.apache.felix.framework.FrameworkFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

import iommu.api.CoreConfiguration;
import iommu.api.DeviceAssignment;
import iommu.api.spi.PlatformDiscovery;

/**
 * The platform in a running Felix, as the application runs it: the bundles of
 * {@code iommu.app/target/iommu.jar} (SCR, Config Admin, Log, the iommu
 * bundles; not the console and Gogo), installed into a framework embedded in
 * the benchmark's JVM. The API packages come from the benchmark's class path
 * (the system bundle exports them), so the benchmark calls the services the
 * framework registered, through the same interfaces a client bundle uses.
 */
final class EmbeddedPlatform implements AutoCloseable {

    private static final Set<String> LEFT_OUT = Set.of("biz.aQute.launcher", "iommu.api", "iommu.app", "iommu.console",
            "gson", "jline", "org.apache.felix.framework", "org.apache.felix.gogo.command",
            "org.apache.felix.gogo.jline", "org.apache.felix.gogo.runtime");

    final Framework framework;
    final BundleContext context;
    final DeviceAssignment assignment;
    final ConfigurationAdmin configAdmin;

    EmbeddedPlatform() throws Exception {
        Path jar = Path.of(System.getProperty("iommu.jar", "iommu.app/target/iommu.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no " + jar + ": build it (mvn -B -q install -DskipTests) or pass -Diommu.jar=PATH");
        }
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, Files.createTempDirectory("iommu-bench-fw").toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // shared with the benchmark: the API, at the versions the app's iommu.api bundle exports them (the
        // benchmark's class path has the same classes), and Config Admin's API so it can swap strategies
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, apiExports(jar) + ",org.osgi.service.cm;version=1.6.1");
        framework = new FrameworkFactory().newFramework(config);
        framework.start();
        context = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String name = e.getName();
                if (!name.startsWith("jar/") || !name.endsWith(".jar")) {
                    continue;
                }
                String bsn = name.substring(4).replaceAll("-[0-9][^/]*\\.jar$", "");
                if (LEFT_OUT.contains(bsn)) {
                    continue;
                }
                try (InputStream in = zip.getInputStream(e)) {
                    bundles.add(context.installBundle("jar:" + name, in));
                }
            }
        }
        for (Bundle b : bundles) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
        assignment = await(DeviceAssignment.class, "DeviceAssignment");
        configAdmin = await(ConfigurationAdmin.class, "ConfigurationAdmin");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (assignment.strategy().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    /** The Export-Package header of the iommu.api bundle inside the app jar. */
    static String apiExports(Path jar) throws java.io.IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.getName().matches("jar/iommu\\.api-[0-9][^/]*\\.jar")) {
                    try (java.util.jar.JarInputStream in = new java.util.jar.JarInputStream(zip.getInputStream(e))) {
                        String exports = in.getManifest().getMainAttributes().getValue(Constants.EXPORT_PACKAGE);
                        if (exports != null) {
                            return exports;
                        }
                    }
                }
            }
        }
        throw new IllegalStateException(jar + " holds no iommu.api bundle with an Export-Package header");
    }

    <T> T await(Class<T> type, String what) throws InterruptedException {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        T service = tracker.waitForService(10_000);
        if (service == null) {
            throw new IllegalStateException("no " + what + " service within 10 s");
        }
        return service;
    }

    /** Writes the core's strategy and waits until it is bound (or refused). */
    void swapTo(String strategy) throws Exception {
        Configuration c = configAdmin.getConfiguration(CoreConfiguration.PID, "?");
        Dictionary<String, Object> p = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
        p.put(CoreConfiguration.STRATEGY, strategy);
        c.update(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(strategy.equals(assignment.requestedStrategy())
                && (assignment.strategy().filter(strategy::equals).isPresent() || assignment.strategyProblem().isPresent()))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("strategy " + strategy + " not bound within 60 s");
            }
            Thread.sleep(1);
        }
        if (assignment.strategyProblem().isPresent()) {
            throw new IllegalStateException(assignment.strategyProblem().get());
        }
    }

    PlatformDiscovery vtdDiscovery() throws Exception {
        var refs = context.getServiceReferences(PlatformDiscovery.class, "(" + PlatformDiscovery.VENDOR + "=vt-d)");
        return context.getService(refs.iterator().next());
    }

    @Override
    public void close() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    static Dictionary<String, Object> props(Object... keyValues) {
        Hashtable<String, Object> d = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            d.put((String) keyValues[i], keyValues[i + 1]);
        }
        return d;
    }
}
