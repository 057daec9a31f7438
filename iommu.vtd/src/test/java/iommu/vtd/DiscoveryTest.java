package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.PlatformDiscovery;

/**
 * The PlatformDiscovery service over the default platform, with the
 * recording BundleContext and logger of {@link ComponentsTest}.
 */
class DiscoveryTest {

    @TempDir
    Path dir;
    final ComponentsTest fx = new ComponentsTest();
    VtdPlatform platform;
    PlatformDiscovery discovery;
    Path dmar;
    Path platformFile;

    @BeforeEach
    void start() throws IOException {
        platform = new VtdPlatform(fx.context, ComponentsTest.config(""), fx.logger);
        discovery = new VtdDiscovery(platform);
        dmar = Files.write(dir.resolve("server.dat"), DmarBytes.resource("server-two-segments.dat"));
        Files.copy(DmarBytes.DMAR_SOURCES.resolve("server-two-segments.txt"), dir.resolve("server.txt"));
        platformFile = Files.writeString(dir.resolve("server.txt"),
                Files.readString(dir.resolve("server.txt")).replace("dmar server-two-segments.dat", "dmar server.dat"));
    }

    @AfterEach
    void stop() {
        platform.deactivate();
        assertThat(fx.services).isEmpty();
    }

    List<Object> unitIds() {
        return fx.services.values().stream().map(p -> p.get(IommuUnit.UNIT_ID)).toList();
    }

    static PciAddress pci(String bdf) {
        return PciAddress.parse(bdf);
    }

    @Test
    void isTheVtdVendorsDiscovery() throws IOException {
        assertThat(discovery.vendor()).isEqualTo("vt-d");
        // the DS descriptor bnd generated carries the service property
        String descriptor = Files.readString(Path.of("target/classes/OSGI-INF/iommu.vtd.VtdDiscovery.xml"));
        assertThat(descriptor).contains("<property name=\"discovery.vendor\" type=\"String\" value=\"vt-d\"/>")
                .contains("<provide interface=\"iommu.api.spi.PlatformDiscovery\"/>");
    }

    @Test
    void recognizesTheThreeFormatsByContentNotByName(@TempDir Path other) throws IOException {
        Path sysfs = Files.createDirectories(other.resolve("snapshot/class/iommu"));
        Path dmarNamedTxt = Files.write(other.resolve("dmar.txt"), DmarBytes.resource("client-satc.dat"));
        Path platformNamedDat = Files.writeString(other.resolve("platform.dat"), "# a comment\n\niommu-platform 2\n");
        Path text = Files.writeString(other.resolve("notes.txt"), "hello\n");
        assertThat(discovery.recognizes(dmar)).isTrue();
        assertThat(discovery.recognizes(dmarNamedTxt)).isTrue();
        assertThat(discovery.recognizes(platformNamedDat)).isTrue();
        assertThat(discovery.recognizes(sysfs.getParent().getParent())).isTrue();
        assertThat(discovery.recognizes(text)).isFalse();
        assertThat(discovery.recognizes(other.resolve("nowhere"))).isFalse();
        assertThat(discovery.recognizes(other)).isFalse();
        assertThat(PlatformSources.formatOf(dmar)).isEqualTo("acpi-dmar");
        assertThat(PlatformSources.formatOf(platformNamedDat)).isEqualTo("platform-file");
        assertThat(PlatformSources.formatOf(sysfs.getParent().getParent())).isEqualTo("sysfs");
    }

    @Test
    void discoversADmarBesideTheDefaultPlatformWithIdsContinuingTheNumbering() {
        DiscoveryDTO dto = discovery.discover(dmar);
        assertThat(dto.source).isEqualTo(dmar.toString());
        assertThat(dto.format).isEqualTo("acpi-dmar");
        // DRHD #1 is a second INCLUDE_PCI_ALL unit on segment 0, beside the default platform's dmar4
        assertThat(dto.units).containsExactly("dmar5", "dmar6", "dmar7");
        // walked through the default platform's topology: 00:1c.0 leads to bus 02, where the M.2 boot drive is
        assertThat(dto.devices).isEqualTo(1);
        assertThat(platform.registry().unit("dmar5").orElseThrow().devices()).containsExactly(pci("0000:02:00.0"));
        assertThat(dto.warnings).contains(dmar + ": unit at register base 0xfed91000 not registered: unit dmar6 is a"
                + " second INCLUDE_PCI_ALL unit on segment 0000, after dmar4: expected at most one per segment (from"
                + " platform default platform (iommu/vtd/default-platform.txt))");
        assertThat(unitIds()).containsExactly("dmar0", "dmar1", "dmar2", "dmar3", "dmar4", "dmar5", "dmar6", "dmar7");
        Map<String, Object> dmar5 = fx.services.entrySet().stream()
                .filter(e -> e.getKey().id().equals("dmar5")).findFirst().orElseThrow().getValue();
        assertThat(dmar5).containsEntry("unit.registerBase", "0xfed90000")
                .containsEntry("unit.source", "discovery " + dmar);
        assertThat(platform.registry().unit("dmar6").orElseThrow().registerBase()).isEqualTo(0xfed92000L);
        assertThat(platform.registry().unit("dmar6").orElseThrow().segment()).isEqualTo(1);
        assertThat(fx.infos).last().asString().startsWith("VT-d discovery " + dmar + " (acpi-dmar): units [dmar5,"
                + " dmar6, dmar7], 1 PCI devices");
    }

    @Test
    void aDiscoveredPlatformFileBringsItsTopologyAndTheBestClaimSpansAllUnits() {
        VtdUnit dmar4 = platform.registry().unit("dmar4").orElseThrow();
        assertThat(dmar4.devices()).contains(pci("0000:02:00.0"));
        DiscoveryDTO dto = discovery.discover(platformFile);
        assertThat(dto.format).isEqualTo("platform-file");
        assertThat(dto.units).containsExactly("dmar5", "dmar6", "dmar7");
        VtdUnit gfx = platform.registry().unit("dmar5").orElseThrow();
        // 02:00.0 (behind 00:1c.0, in both topologies) now has an endpoint scope through a two-hop path
        assertThat(gfx.devices()).containsExactly(pci("0000:00:02.0"), pci("0000:02:00.0"), pci("0000:05:00.0"));
        assertThat(dmar4.devices()).doesNotContain(pci("0000:02:00.0")).contains(pci("0000:07:00.0"),
                pci("0000:00:15.0"));
        assertThat(dto.devices).isEqualTo(3 + 5 + 1);
        assertThat(gfx.hasReservedMemory(pci("0000:02:00.0"))).isTrue();
        assertThat(dmar4.hasReservedMemory(pci("0000:00:14.0"))).isTrue();
        assertThat(dmar4.hasReservedMemory(pci("0000:00:17.0"))).isFalse();
    }

    @Test
    void discoversASysfsTree() throws IOException {
        Path sys = dir.resolve("sys");
        Path regs = Files.createDirectories(sys.resolve("class/iommu/dmar0/intel-iommu"));
        Files.writeString(regs.resolve("address"), "fed90000\n");
        Files.writeString(regs.resolve("cap"), "d2008c40660462\n");
        Files.writeString(regs.resolve("ecap"), "f050da\n");
        Files.writeString(regs.resolve("version"), "1:0\n");
        Files.createDirectories(sys.resolve("class/iommu/dmar0/devices/0000:00:02.0"));
        Files.createDirectories(sys.resolve("bus/pci/devices/0000:00:02.0"));
        DiscoveryDTO dto = discovery.discover(sys);
        assertThat(dto.format).isEqualTo("sysfs");
        assertThat(dto.units).containsExactly("dmar5");
        assertThat(dto.devices).isEqualTo(1);
        assertThat(platform.registry().unit("dmar5").orElseThrow().devices()).containsExactly(pci("0000:00:02.0"));
    }

    @Test
    void aMalformedPathIsOneLineAndChangesNothing() throws IOException {
        Path broken = Files.write(dir.resolve("broken.dat"),
                DmarBytes.with(DmarBytes.resource("server-two-segments.dat"), 0x138, 2, 0x40));
        int before = fx.services.size();
        assertThatThrownBy(() -> discovery.discover(broken)).isInstanceOf(IommuException.class)
                .hasMessage(broken + ": ANDD #0 at offset 0x136: length 0x40 runs to offset 0x176, past the table's"
                        + " end 0x14d: expected each structure to end within the table");
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello\n");
        assertThatThrownBy(() -> discovery.discover(text)).isInstanceOf(IommuException.class)
                .hasMessage(text + ": neither an ACPI DMAR table (signature \"DMAR\") nor a platform file (first"
                        + " statement 'iommu-platform N'): expected one of them, or a sysfs-shaped directory");
        assertThatThrownBy(() -> discovery.discover(dir.resolve("nowhere"))).isInstanceOf(IommuException.class)
                .hasMessage(dir.resolve("nowhere") + ": no such file or directory: expected an ACPI DMAR binary,"
                        + " a sysfs-shaped directory or a platform file");
        assertThat(fx.services).hasSize(before);
        assertThat(platform.inventory().devices()).hasSize(402);
    }

    @Test
    void theSameTableTwiceRegistersNothingTheSecondTime() {
        discovery.discover(dmar);
        assertThatThrownBy(() -> discovery.discover(dmar)).isInstanceOf(IommuException.class)
                .hasMessageStartingWith(dmar + ": unit at register base 0xfed90000 not registered: unit dmar8 has the"
                        + " register base 0xfed90000 of unit dmar5")
                .hasMessageEndingWith("(and 3 more like it): no unit registered");
        assertThat(unitIds()).hasSize(8);
    }

    @Test
    void aTopologyThatContradictsThePlatformIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("other.txt"), String.join("\n", "iommu-platform 1",
                "unit u1 base=0xfed99000 cap=d2008c40660462 ecap=f050da", "bridge 0000:00:1c.0 02-03"));
        assertThatThrownBy(() -> discovery.discover(file)).isInstanceOf(IommuException.class)
                .hasMessage(file + " has bridge 0000:00:1c.0 02-03 where the platform has bridge 0000:00:1c.0 02-02:"
                        + " expected the same PCI topology");
        assertThat(unitIds()).hasSize(5);
    }

    @Test
    void forgetsADiscoveredUnitAndTheNextIdsContinueAfterTheHighest() {
        discovery.discover(dmar);
        discovery.forget("dmar6");
        assertThat(unitIds()).doesNotContain("dmar6").hasSize(7);
        assertThat(fx.infos).last().isEqualTo("VT-d unit dmar6 unregistered (it came from discovery " + dmar + ")");
        discovery.forget("dmar7");
        discovery.forget("dmar5");
        // forgetting the default platform's units works the same way
        discovery.forget("dmar3");
        assertThat(discovery.discover(dmar).units).containsExactly("dmar5", "dmar6", "dmar7");
    }

    @Test
    void refusesToForgetAnUnknownUnit() {
        assertThatThrownBy(() -> discovery.forget("dmar42")).isInstanceOf(IommuException.class)
                .hasMessage("unknown unit 'dmar42': expected one of [dmar0, dmar1, dmar2, dmar3, dmar4]");
        assertThatThrownBy(() -> discovery.forget(" ")).isInstanceOf(IommuException.class)
                .hasMessage("missing unit id: expected the id of a VT-d unit, e.g. dmar5");
    }

    @Test
    void refusesToForgetAUnitWithAPresentContextEntry() {
        VtdUnit dmar3 = platform.registry().unit("dmar3").orElseThrow();
        PciAddress nvme = pci("0000:af:00.0");
        dmar3.setContext(nvme, new DeviceContext(DomainId.of(7), GuestId.guest(3)));
        assertThatThrownBy(() -> discovery.forget("dmar3")).isInstanceOf(IommuException.class)
                .hasMessage("unit dmar3 is in use: the context entry of 0000:af:00.0 is present (guest 3, domain id 7):"
                        + " expected its devices detached first");
        assertThat(unitIds()).contains("dmar3");
        assertThat(dmar3.devices()).contains(nvme);
        dmar3.clearContext(nvme);
        discovery.forget("dmar3");
        assertThat(unitIds()).doesNotContain("dmar3");
        // its devices fall to the INCLUDE_PCI_ALL unit
        assertThat(platform.registry().bestClaimant(nvme).orElseThrow().id()).isEqualTo("dmar4");
    }

    @Test
    void refusesToForgetAConfiguredUnit() {
        Map<String, Object> properties = ComponentsTest.unitConfig("dmar9", "0xfed90000");
        VtdUnitConfiguration component = new VtdUnitConfiguration(properties, platform, fx.logger);
        assertThatThrownBy(() -> discovery.forget("dmar9")).isInstanceOf(IommuException.class)
                .hasMessage("unit dmar9 comes from configuration iommu.vtd.unit~dmar9: expected that configuration"
                        + " deleted instead");
        component.deactivate();
    }

    @Test
    void replacesThePlatformWhenNoDeviceIsAttached() {
        DiscoveryDTO dto = discovery.replacePlatform(platformFile);
        assertThat(dto.units).containsExactly("dmar0", "dmar1", "dmar2", "dmar3");
        assertThat(unitIds()).containsExactly("dmar0", "dmar1", "dmar2", "dmar3");
        assertThat(fx.services.keySet()).allSatisfy(u -> assertThat(u.registerBase()).isBetween(0xfed90000L,
                0xfed93000L));
        assertThat(platform.inventory().devices()).hasSize(12);
        assertThat(platform.source()).isEqualTo(platformFile.toString());
        assertThat(dto.devices).isEqualTo(12);
    }

    @Test
    void refusesToReplaceThePlatformWhileADeviceIsAttached() throws IOException {
        VtdUnit dmar0 = platform.registry().unit("dmar0").orElseThrow();
        dmar0.setContext(pci("0000:18:00.0"), new DeviceContext(DomainId.of(1), GuestId.guest(1)));
        assertThatThrownBy(() -> discovery.replacePlatform(dmar)).isInstanceOf(IommuException.class)
                .hasMessage("unit dmar0 cannot be replaced: the context entry of 0000:18:00.0 is present (guest 1,"
                        + " domain id 1): expected every device of the platform detached first");
        assertThat(unitIds()).hasSize(5);
        Path broken = Files.write(dir.resolve("broken.dat"), new byte[0]);
        assertThatThrownBy(() -> discovery.replacePlatform(broken)).isInstanceOf(IommuException.class)
                .hasMessage(broken + ": neither an ACPI DMAR table (signature \"DMAR\") nor a platform file (first"
                        + " statement 'iommu-platform N'): expected one of them, or a sysfs-shaped directory");
        dmar0.clearContext(pci("0000:18:00.0"));
    }

    @Test
    void theConfiguredPathTakesADmarBinary() {
        platform.deactivate();
        platform = new VtdPlatform(fx.context, ComponentsTest.config(dmar.toString()), fx.logger);
        assertThat(unitIds()).containsExactly("dmar0", "dmar1", "dmar2", "dmar3");
        assertThat(fx.infos).last().isEqualTo("VT-d platform " + dmar + ": 4 units, 0 PCI devices");
        assertThat(fx.warnings).containsExactly("VT-d platform " + dmar + ": " + dmar + ": no PCI topology known:"
                + " 5 device scopes naming a bridge or a path through bridges not resolved; they claim no device"
                + " until a platform file or sysfs gives the bridges' bus numbers");
    }
}
