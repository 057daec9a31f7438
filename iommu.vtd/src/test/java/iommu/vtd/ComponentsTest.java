package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.log.FormatterLogger;

import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;

/**
 * The two DS components, driven as SCR would (constructor, then deactivate),
 * over a recording BundleContext and Logger.
 */
class ComponentsTest {

    /** The IommuUnit services registered and not yet unregistered, with their properties. */
    final Map<IommuUnit, Map<String, Object>> services = Collections.synchronizedMap(new LinkedHashMap<>());
    final List<String> errors = new ArrayList<>();
    final List<String> infos = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    final BundleContext context = bundleContext();
    final FormatterLogger logger = logger();
    VtdPlatform platform;
    /** The bundle's persistent data area, when a test gives it one. */
    java.nio.file.Path dataArea;

    @AfterEach
    void stop() {
        if (platform != null) {
            platform.deactivate();
            assertThat(services).isEmpty();
        }
    }

    @Test
    void aConfiguredStateDirectoryKeepsTheTablesAcrossARestartOfTheBundle(@TempDir java.nio.file.Path state) {
        platform = new VtdPlatform(context, config("", state.toString()), logger);
        assertThat(errors).isEmpty();
        IommuUnit dmar0 = services.keySet().iterator().next();
        PciAddress vf = dmar0.devices().get(0);
        dmar0.setContext(vf, new iommu.api.spi.DeviceContext(iommu.api.DomainId.of(4), iommu.api.GuestId.guest(2)));
        assertThat(dmar0.inheritedTables()).isFalse();
        platform.deactivate();

        platform = new VtdPlatform(context, config("", state.toString()), logger);
        IommuUnit again = services.keySet().iterator().next();
        assertThat(again).isNotSameAs(dmar0);
        assertThat(again.inheritedTables()).isTrue();
        assertThat(again.context(vf)).contains(new iommu.api.spi.DeviceContext(iommu.api.DomainId.of(4),
                iommu.api.GuestId.guest(2)));
        assertThat(state.resolve("vtd")).isDirectoryContaining("glob:**/vtd-0000-00000000e0ffc000.tables");
    }

    @Test
    void keepTablesInMovesTheUnitsAndIsRememberedAcrossARestart(@TempDir java.nio.file.Path state,
            @TempDir java.nio.file.Path data) {
        dataArea = data;
        platform = new VtdPlatform(context, config(""), logger);
        VtdDiscovery discovery = new VtdDiscovery(platform);
        var dto = discovery.keepTablesIn(state).orElseThrow();
        assertThat(dto.units).containsExactly("dmar0", "dmar1", "dmar2", "dmar3", "dmar4");
        assertThat(dto.source).isEqualTo(state.resolve("vtd").toString());
        assertThat(services).hasSize(5);
        assertThat(platform.units()).allSatisfy(u -> assertThat(u.tableFile()).isPresent());
        platform.deactivate();

        platform = new VtdPlatform(context, config(""), logger); // no configured directory: the remembered one
        assertThat(platform.units()).allSatisfy(u -> assertThat(u.inheritedTables()).isTrue());
    }

    @Test
    void aStateDirectoryHoldingAnotherUnitsFileIsOneLineAndChangesNothing(@TempDir java.nio.file.Path state)
            throws java.io.IOException {
        platform = new VtdPlatform(context, config(""), logger);
        java.nio.file.Files.createDirectories(state.resolve("vtd"));
        java.nio.file.Files.write(state.resolve("vtd/vtd-0000-00000000c5ffc000.tables"), new byte[4096]);
        List<IommuUnit> before = List.copyOf(services.keySet());
        assertThatThrownBy(() -> new VtdDiscovery(platform).keepTablesIn(state))
                .isInstanceOf(iommu.api.IommuException.class)
                .hasMessage("unit dmar1: table file " + state.resolve("vtd/vtd-0000-00000000c5ffc000.tables")
                        + " refused: no IOMMU-VT-D-TABLE signature at offset 0: expected a table file written by this"
                        + " platform" + TableFile.REBUILD_HINT);
        assertThat(services.keySet()).containsExactlyElementsOf(before);
    }

    @Test
    void registersTheDefaultPlatformsUnitsAsServices() {
        platform = new VtdPlatform(context, config(""), logger);
        assertThat(errors).isEmpty();
        assertThat(infos).containsExactly("VT-d platform default platform (iommu/vtd/default-platform.txt):"
                + " 5 units, 402 PCI devices");
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID))
                .containsExactly("dmar0", "dmar1", "dmar2", "dmar3", "dmar4");
        assertThat(services.values()).allSatisfy(p -> assertThat(p).containsEntry(IommuUnit.VENDOR, "vt-d"));
        assertThat(services.values()).first().satisfies(p -> assertThat(p)
                .containsEntry("unit.registerBase", "0xe0ffc000")
                .containsEntry("unit.segment", 0));
        assertThat(services.keySet()).allSatisfy(u -> assertThat(u.vendor()).isEqualTo("vt-d"));

        platform.deactivate();
        assertThat(services).isEmpty();
        platform = null;
    }

    @Test
    void loadsTheConfiguredFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("lab.txt");
        Files.write(file, PlatformFileParserTest.VALID);
        platform = new VtdPlatform(context, config(file.toString()), logger);
        assertThat(errors).isEmpty();
        assertThat(platform.source()).isEqualTo(file.toString());
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).containsExactly("dmar0", "dmar1");
    }

    @Test
    void aNewConfiguredPathReplacesThePlatformAndAnEmptyOneBringsTheDefaultBack(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("lab.txt");
        Files.write(file, PlatformFileParserTest.VALID);
        platform = new VtdPlatform(context, config(""), logger);
        platform.modified(config(file.toString()));
        assertThat(errors).isEmpty();
        assertThat(platform.source()).isEqualTo(file.toString());
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).containsExactly("dmar0", "dmar1");

        platform.modified(config(dir.resolve("nowhere.txt").toString()));
        assertThat(errors).singleElement().asString().startsWith("VT-d platform " + dir.resolve("nowhere.txt")
                + " not loaded, the units of " + file + " stay: ");
        assertThat(services).hasSize(2);

        platform.modified(config(""));
        assertThat(platform.source()).isEqualTo(VtdPlatform.DEFAULT_SOURCE);
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID))
                .containsExactly("dmar0", "dmar1", "dmar2", "dmar3", "dmar4");
    }

    @Test
    void aMalformedFileIsOneErrorLineAndNoUnit(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("broken.txt");
        List<String> lines = new ArrayList<>(PlatformFileParserTest.VALID);
        lines.set(8, "sriov 0000:01:00.0 totalvfs=64 numvfs=80 offset=128 stride=1");
        Files.write(file, lines);
        platform = new VtdPlatform(context, config(file.toString()), logger);
        assertThat(errors).containsExactly("VT-d platform not loaded, no unit registered: " + file
                + ":9: PF 0000:01:00.0: numvfs 80 out of range: expected 0..totalvfs (64)");
        assertThat(services).isEmpty();
        assertThat(platform.units()).isEmpty();
    }

    @Test
    void aMissingFileIsOneErrorLineAndNoUnit(@TempDir Path dir) {
        platform = new VtdPlatform(context, config(dir.resolve("nowhere.txt").toString()), logger);
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).isEqualTo("VT-d platform not loaded, no unit registered: "
                + dir.resolve("nowhere.txt") + ": no such file or directory: expected an ACPI DMAR binary,"
                + " a sysfs-shaped directory or a platform file");
        assertThat(services).isEmpty();
    }

    @Test
    void aUnitConfigurationAddsAUnitWhileItExists() {
        platform = new VtdPlatform(context, config(""), logger);
        VtdUnit dmar4 = platform.registry().unit("dmar4").orElseThrow();
        PciAddress usb = PciAddress.parse("0000:00:14.0");
        assertThat(dmar4.devices()).contains(usb);

        Map<String, Object> properties = unitConfig("dmar5", "0xfed90000");
        properties.put("scope", new String[] {"endpoint 0000:00:14.0", "bridge 0000:00:1c.0 02-02", ""});
        VtdUnitConfiguration component = new VtdUnitConfiguration(properties, platform, logger);
        assertThat(errors).isEmpty();
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).contains("dmar5");
        VtdUnit dmar5 = component.unit();
        assertThat(dmar5.source()).isEqualTo("configuration iommu.vtd.unit~dmar5");
        // devices come from the platform's inventory, and the best claim spans both sources
        assertThat(dmar5.devices()).containsExactly(usb, PciAddress.parse("0000:02:00.0"));
        assertThat(dmar4.devices()).doesNotContain(usb).hasSize(8);

        component.deactivate();
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).doesNotContain("dmar5").hasSize(5);
        assertThat(dmar4.devices()).contains(usb).hasSize(10);
    }

    @Test
    void malformedUnitConfigurationsAreOneErrorLineEachAndChangeNothing() {
        platform = new VtdPlatform(context, config(""), logger);
        Map<IommuUnit, Map<String, Object>> before = new HashMap<>(services);

        Map<String, Object> badHex = unitConfig("dmar5", "0xfed9zz00");
        Map<String, Object> badScope = unitConfig("dmar6", "0xfed91000");
        badScope.put("scope", new String[] {"endpoint 0000:00:14.0", "device 0000:00:1c.0"});
        Map<String, Object> duplicate = unitConfig("dmar2", "0xfed92000");
        Map<String, Object> secondIncludeAll = unitConfig("dmar7", "0xfed93000");
        secondIncludeAll.put("includePciAll", Boolean.TRUE);
        Map<String, Object> missingCap = unitConfig("dmar8", "0xfed94000");
        missingCap.remove("cap");

        for (Map<String, Object> properties : List.of(badHex, badScope, duplicate, secondIncludeAll, missingCap)) {
            VtdUnitConfiguration component = new VtdUnitConfiguration(properties, platform, logger);
            assertThat(component.unit()).isNull();
            component.deactivate();
        }
        assertThat(errors).containsExactly(
                "VT-d unit configuration iommu.vtd.unit~dmar5 rejected, no unit registered:"
                        + " bad registerBase '0xfed9zz00': expected a hexadecimal number of 1 to 16 digits, 0x optional",
                "VT-d unit configuration iommu.vtd.unit~dmar6 rejected, no unit registered:"
                        + " scope[1]: unknown device scope type 'device':"
                        + " expected 'endpoint SSSS:BB:DD.F' or 'bridge SSSS:BB:DD.F SS-EE'",
                "VT-d unit configuration iommu.vtd.unit~dmar2 rejected, no unit registered:"
                        + " duplicate unit id dmar2: expected each unit id once"
                        + " (from platform default platform (iommu/vtd/default-platform.txt))",
                "VT-d unit configuration iommu.vtd.unit~dmar7 rejected, no unit registered:"
                        + " unit dmar7 is a second INCLUDE_PCI_ALL unit on segment 0000, after dmar4:"
                        + " expected at most one per segment (from platform default platform"
                        + " (iommu/vtd/default-platform.txt))",
                "VT-d unit configuration iommu.vtd.unit~dmar8 rejected, no unit registered:"
                        + " missing property cap: expected a hexadecimal CAP value such as d2008c40660462");
        assertThat(services).isEqualTo(before);
        assertThat(platform.units()).hasSize(5);
    }

    // ---- fakes ---------------------------------------------------------------------------

    static Map<String, Object> unitConfig(String id, String base) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("service.pid", "iommu.vtd.unit~" + id);
        properties.put("id", id);
        properties.put("segment", 0);
        properties.put("registerBase", base);
        properties.put("cap", "d2008c40660462");
        properties.put("ecap", "f050da");
        return properties;
    }

    static VtdPlatform.Config config(String path) {
        return config(path, "");
    }

    static VtdPlatform.Config config(String path, String stateDirectory) {
        return (VtdPlatform.Config) Proxy.newProxyInstance(ComponentsTest.class.getClassLoader(),
                new Class<?>[] {VtdPlatform.Config.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "path" -> path;
                    case "stateDirectory" -> stateDirectory;
                    case "rebuildTables" -> false;
                    case "annotationType" -> VtdPlatform.Config.class;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private BundleContext bundleContext() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getProperty")) {
                        return org.osgi.framework.Constants.FRAMEWORK_UUID.equals(args[0]) ? "components-test" : null;
                    }
                    if (method.getName().equals("getDataFile")) {
                        return dataArea == null ? null : dataArea.resolve((String) args[0]).toFile();
                    }
                    if (!method.getName().equals("registerService") || args[0] != IommuUnit.class) {
                        throw new UnsupportedOperationException(method.toString());
                    }
                    IommuUnit unit = (IommuUnit) args[1];
                    Dictionary<?, ?> dictionary = (Dictionary<?, ?>) args[2];
                    Map<String, Object> properties = new LinkedHashMap<>();
                    for (var keys = dictionary.keys(); keys.hasMoreElements();) {
                        Object key = keys.nextElement();
                        properties.put((String) key, dictionary.get(key));
                    }
                    services.put(unit, properties);
                    return registration(unit);
                });
    }

    private ServiceRegistration<?> registration(IommuUnit unit) {
        return (ServiceRegistration<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> {
                    if (!method.getName().equals("unregister")) {
                        throw new UnsupportedOperationException(method.toString());
                    }
                    if (services.remove(unit) == null) {
                        throw new IllegalStateException("already unregistered");
                    }
                    return null;
                });
    }

    private FormatterLogger logger() {
        return (FormatterLogger) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {FormatterLogger.class}, (proxy, method, args) -> {
                    Object[] formatArgs;
                    if (args.length == 2 && method.getParameterTypes()[1] == Object[].class) {
                        formatArgs = (Object[]) args[1];
                    } else {
                        formatArgs = java.util.Arrays.copyOfRange(args, 1, args.length);
                    }
                    String line = String.format((String) args[0], formatArgs);
                    switch (method.getName()) {
                        case "error" -> errors.add(line);
                        case "info" -> infos.add(line);
                        case "warn" -> warnings.add(line);
                        default -> throw new UnsupportedOperationException(method.toString());
                    }
                    return null;
                });
    }
}
