package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.annotation.Annotation;
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

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;

/** The discovery component driven as SCR would, over a recording BundleContext and logger. */
class PlatformTest {

    final Map<IommuUnit, Map<String, Object>> services = Collections.synchronizedMap(new LinkedHashMap<>());
    final List<String> log = new ArrayList<>();
    AmdViPlatform platform;
    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (platform != null) {
            platform.deactivate();
            assertThat(services).isEmpty();
        }
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    AmdViPlatform start(String path) {
        platform = new AmdViPlatform(context(), config(path), logger());
        return platform;
    }

    @Test
    void noUnitWithoutAConfiguredTable() {
        start("");
        assertThat(services).isEmpty();
        assertThat(platform.vendor()).isEqualTo("amd-vi");
    }

    @Test
    void registersTheConfiguredTablesUnits() throws IOException {
        Path ivrs = write("ivrs.dat", IvrsParserTest.table("ivrs-11h.aml"));
        start(ivrs.toString());
        // 526 ids named, less 00:00.2, ivhd0's own function (ivhd1's, 40:00.2, is not named)
        assertThat(log).containsExactly("info AMD-Vi platform " + ivrs + ": 2 units, 525 device ids");
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).containsExactly("ivhd0", "ivhd1");
        assertThat(services.values()).allSatisfy(p -> assertThat(p).containsEntry(IommuUnit.VENDOR, "amd-vi"));
        assertThat(services.values()).first().satisfies(p -> assertThat(p)
                .containsEntry("unit.registerBase", "0xfd200000").containsEntry("unit.segment", 0)
                .containsEntry("unit.source", ivrs.toString()));
    }

    @Test
    void discoverRecognizesAndRegisters() throws IOException {
        start("");
        Path ivrs = write("ivrs.dat", IvrsParserTest.table("ivrs-40h.aml"));
        Path other = write("dmar.dat", "DMAR....".getBytes());
        assertThat(platform.recognizes(ivrs)).isTrue();
        assertThat(platform.recognizes(other)).isFalse();
        assertThat(platform.recognizes(dir)).isFalse();
        DiscoveryDTO dto = platform.discover(ivrs);
        assertThat(dto.format).isEqualTo("acpi-ivrs");
        assertThat(dto.source).isEqualTo(ivrs.toString());
        assertThat(dto.units).containsExactly("ivhd0", "ivhd1");
        assertThat(dto.warnings).isEmpty();
        // ivhd0: 256 + 256 ids; ivhd1 (ALL on segment 1): every id of segment 1; each less its own function
        assertThat(dto.devices).isEqualTo(512 + 65536 - 2);
        IommuUnit all = services.keySet().stream().filter(u -> u.id().equals("ivhd1")).findFirst().orElseThrow();
        assertThat(all.includePciAll()).isTrue();
        assertThat(all.segment()).isEqualTo(1);
        assertThat(all.describe()).containsEntry("vendor", "amd-vi").containsEntry("ivhdType", "40h")
                .containsEntry("efr.IASup", true).containsEntry("efr.HATS", 2).containsEntry("Control.IommuEn", true);
    }

    @Test
    void theSameIommuTwiceIsRefusedAndNothingChanges() throws IOException {
        start("");
        Path ivrs = write("ivrs.dat", IvrsParserTest.table("ivrs-11h.aml"));
        platform.discover(ivrs);
        assertThatThrownBy(() -> platform.discover(ivrs)).isInstanceOf(IommuException.class)
                .hasMessage("the IOMMU at 0000 base 0xfd200000 from " + ivrs + " is already unit ivhd0 (from " + ivrs
                        + "): expected an IOMMU not yet discovered; forget ivhd0 first");
        assertThat(services).hasSize(2);
    }

    @Test
    void malformedTablesAreOneLineAndNothingRegistered() throws IOException {
        start("");
        byte[] bad = IvrsParserTest.table("ivrs-11h.aml");
        bad[9] ^= 1;
        Path p = write("bad.dat", bad);
        assertThatThrownBy(() -> platform.discover(p)).isInstanceOf(IommuException.class)
                .hasMessageStartingWith("IVRS " + p + ": byte 0x9: checksum");
        Path empty = write("empty.dat", new byte[0]);
        assertThatThrownBy(() -> platform.discover(empty)).hasMessageContaining("empty file");
        assertThatThrownBy(() -> platform.discover(dir.resolve("missing.dat")))
                .hasMessageStartingWith("IVRS " + dir.resolve("missing.dat") + ": cannot read it (NoSuchFileException");
        assertThat(services).isEmpty();
    }

    @Test
    void forgetRefusesAUnitWithAnAttachedDevice() throws IOException {
        start(write("ivrs.dat", IvrsParserTest.table("ivrs-11h.aml")).toString());
        AmdViUnit ivhd0 = platform.units().get(0);
        ivhd0.setContext(PciAddress.parse("01:00.0"), new DeviceContext(DomainId.of(1), GuestId.guest(4)));
        assertThatThrownBy(() -> platform.forget("ivhd0")).isInstanceOf(IommuException.class)
                .hasMessage("unit ivhd0 still translates 1 attached devices (0000:01:00.0 of guest 4): detach them"
                        + " first");
        assertThatThrownBy(() -> platform.forget("ivhd9")).hasMessage("no AMD-Vi unit 'ivhd9': expected one of"
                + " [ivhd0, ivhd1]");
        ivhd0.clearContext(PciAddress.parse("01:00.0"));
        platform.forget("ivhd0");
        assertThat(services.values()).extracting(p -> p.get(IommuUnit.UNIT_ID)).containsExactly("ivhd1");
        // the freed name is reused for the next IOMMU
        DiscoveryDTO dto = platform.discover(write("ivrs40.dat", IvrsParserTest.table("ivrs-40h.aml")));
        assertThat(dto.units).containsExactly("ivhd0", "ivhd2");
    }

    @Test
    void replacePlatformChecksTheNewTableFirst() throws IOException {
        start(write("ivrs.dat", IvrsParserTest.table("ivrs-11h.aml")).toString());
        byte[] bad = IvrsParserTest.table("ivrs-40h.aml");
        bad[0] = 'X';
        Path badPath = write("bad.dat", bad);
        assertThatThrownBy(() -> platform.replacePlatform(badPath)).hasMessage("IVRS " + badPath
                + ": byte 0x0: signature \"XVRS\" (58 56 52 53): expected \"IVRS\"");
        assertThat(services).hasSize(2);
        DiscoveryDTO dto = platform.replacePlatform(write("ivrs40.dat", IvrsParserTest.table("ivrs-40h.aml")));
        assertThat(dto.units).containsExactly("ivhd0", "ivhd1");
        assertThat(services.keySet()).extracting(IommuUnit::registerBase).containsExactly(0xFD300000L, 0xE0000000L);
    }

    // ---- fakes

    static AmdViPlatform.Config config(String path) {
        return new AmdViPlatform.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return AmdViPlatform.Config.class;
            }

            @Override
            public String path() {
                return path;
            }
        };
    }

    FormatterLogger logger() {
        return (FormatterLogger) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {FormatterLogger.class}, (proxy, method, args) -> {
                    if (List.of("info", "warn", "error").contains(method.getName()) && args != null
                            && args.length >= 1 && args[0] instanceof String format) {
                        Object[] rest = args.length > 1 && args[1] instanceof Object[] a ? a
                                : java.util.Arrays.copyOfRange(args, 1, args.length);
                        log.add(method.getName() + " " + String.format(format, rest));
                    }
                    return method.getReturnType() == boolean.class ? false : null;
                });
    }

    BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("registerService")) {
                        IommuUnit unit = (IommuUnit) args[1];
                        Dictionary<?, ?> d = (Dictionary<?, ?>) args[2];
                        Map<String, Object> props = new HashMap<>();
                        for (Object k : Collections.list(d.keys())) {
                            props.put((String) k, d.get(k));
                        }
                        services.put(unit, props);
                        return Proxy.newProxyInstance(getClass().getClassLoader(),
                                new Class<?>[] {ServiceRegistration.class}, (p, m, a) -> {
                                    if (m.getName().equals("unregister")) {
                                        services.remove(unit);
                                    }
                                    return null;
                                });
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
