package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

import org.junit.jupiter.api.Test;

class CapabilityTest {

    /**
     * The real data ({@code /work/shared/data}), used in place from the module
     * directory or the reactor root; the tests that need it skip when it is absent.
     */
    static final Path SHARED_DATA = Files.isDirectory(Paths.get("..", "..", "shared", "data"))
            ? Paths.get("..", "..", "shared", "data")
            : Paths.get("..", "shared", "data");

    @Test
    void decodesTheClientPchUnitOfTheReadme() {
        Capability cap = Capability.parse("d2008c40660462");
        assertThat(cap.nd()).isEqualTo(2);
        assertThat(cap.domainIdCount()).isEqualTo(256);
        assertThat(cap.cachingMode()).isFalse();
        assertThat(cap.sagaw()).isEqualTo(0b00100);
        assertThat(cap.mgaw()).isEqualTo(39);
        assertThat(cap.faultRecordingOffset()).isEqualTo(0x400);
        assertThat(cap.pageSelective()).isTrue();
        assertThat(cap.faultRecords()).isEqualTo(1);
        assertThat(cap.maxAddressMaskValue()).isEqualTo(18);
        assertThat(cap.rwbf()).isFalse();
    }

    @Test
    void decodesTheXeonScalableUnitOfTheReadme() {
        Capability cap = Capability.parse("8d2078c106f0466");
        assertThat(cap.nd()).isEqualTo(6);
        assertThat(cap.domainIdCount()).isEqualTo(65536);
        assertThat(cap.cachingMode()).isFalse();
        assertThat(cap.sagaw()).isEqualTo(0b00100);
        assertThat(cap.mgaw()).isEqualTo(48);
        assertThat(cap.faultRecordingOffset()).isEqualTo(0x100);
        assertThat(cap.pageSelective()).isTrue();
        assertThat(cap.faultRecords()).isEqualTo(8);
        assertThat(cap.maxAddressMaskValue()).isEqualTo(18);
    }

    @Test
    void decodesTheIvyBridgeGraphicsUnitOfTheReadme() {
        Capability cap = Capability.parse("c0000020e60262");
        assertThat(cap.nd()).isEqualTo(2);
        assertThat(cap.domainIdCount()).isEqualTo(256);
        assertThat(cap.cachingMode()).isFalse();
        assertThat(cap.sagaw()).isEqualTo(0b00010);
        assertThat(cap.mgaw()).isEqualTo(39);
        assertThat(cap.faultRecordingOffset()).isEqualTo(0x200);
        assertThat(cap.pageSelective()).isFalse();
        assertThat(cap.faultRecords()).isEqualTo(1);
        assertThat(cap.maxAddressMaskValue()).isEqualTo(0);
    }

    @Test
    void decodesTheDefaultPlatformsCraftedCap() {
        Capability cap = Capability.parse("0x8d2078c106f0462");
        assertThat(cap.nd()).isEqualTo(2);
        assertThat(cap.domainIdCount()).isEqualTo(256);
        assertThat(cap.mgaw()).isEqualTo(48);
        assertThat(cap.faultRecords()).isEqualTo(8);
    }

    @Test
    void decodesEveryDomainIdCount() {
        int[] expected = {16, 64, 256, 1024, 4096, 16384, 65536};
        for (int nd = 0; nd <= 6; nd++) {
            assertThat(Capability.decode(nd).domainIdCount()).isEqualTo(expected[nd]);
        }
        assertThatThrownBy(() -> Capability.decode(7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CAP 0x7 has ND=7, a reserved value: expected ND 0..6");
    }

    @Test
    void readsValuesWithTheTopBitsSetAsUnsigned() {
        Capability cap = Capability.parse("f000000000000462");
        assertThat(cap.raw()).isEqualTo(0xf000000000000462L);
        assertThat(cap.nd()).isEqualTo(2);
        assertThat(cap.mgaw()).isEqualTo(1);
        assertThatThrownBy(() -> Capability.parse("1f000000000000462"))
                .hasMessageContaining("expected a hexadecimal number of 1 to 16 digits");
        assertThatThrownBy(() -> Capability.parse("d2008c4066046g"))
                .hasMessage("bad CAP 'd2008c4066046g': expected a hexadecimal number of 1 to 16 digits, 0x optional");
    }

    @Test
    void decodesExtendedCapabilities() {
        ExtendedCapability client = ExtendedCapability.parse("f050da");
        assertThat(client.coherency()).isFalse();
        assertThat(client.queuedInvalidation()).isTrue();
        assertThat(client.deviceTlb()).isFalse();
        assertThat(client.interruptRemapping()).isTrue();
        assertThat(client.extendedInterruptMode()).isTrue();
        assertThat(client.passThrough()).isTrue();
        assertThat(client.snoopControl()).isTrue();
        assertThat(client.iotlbRegisterOffset()).isEqualTo(0x500);

        ExtendedCapability server = ExtendedCapability.parse("0xf020df");
        assertThat(server.coherency()).isTrue();
        assertThat(server.queuedInvalidation()).isTrue();
        assertThat(server.deviceTlb()).isTrue();
        assertThat(server.iotlbRegisterOffset()).isEqualTo(0x200);

        ExtendedCapability ivyBridge = ExtendedCapability.parse("f0101a");
        assertThat(ivyBridge.coherency()).isFalse();
        assertThat(ivyBridge.queuedInvalidation()).isTrue();
        assertThat(ivyBridge.passThrough()).isFalse();
        assertThat(ivyBridge.snoopControl()).isFalse();
        assertThat(ivyBridge.iotlbRegisterOffset()).isEqualTo(0x100);
    }

    /** Every real CAP/ECAP pair decodes, and the three the README decodes agree with it. */
    @Test
    void decodesEveryRealPair() throws IOException {
        Path file = SHARED_DATA.resolve("dmar-real").resolve("cap-ecap.txt");
        assumeTrue(Files.isRegularFile(file), "no " + file + ": real data absent, skipped");
        List<String[]> rows = Files.readAllLines(file).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .map(l -> l.split("\\|"))
                .toList();
        assertThat(rows).hasSize(12);
        for (String[] row : rows) {
            String capText = row[4].trim();
            String ecapText = row[5].trim();
            Capability cap = Capability.parse(capText);
            ExtendedCapability ecap = ExtendedCapability.parse(ecapText);
            assertThat(Long.toHexString(cap.raw())).isEqualTo(capText);
            assertThat(Long.toHexString(ecap.raw())).isEqualTo(ecapText);
            assertThat(cap.domainIdCount()).isIn(256, 65536);
            assertThat(cap.mgaw()).isIn(39, 48);
            assertThat(cap.faultRecords()).isBetween(1, 256);
            assertThat(ecap.queuedInvalidation()).as("%s has QI", ecapText).isTrue();
        }
        assertThat(rows.stream().filter(r -> r[4].trim().equals("8d2078c106f0466")).count()).isEqualTo(2);
        // the server parts (ND 6) and the client parts (ND 2)
        assertThat(rows.stream().map(r -> Capability.parse(r[4].trim()))
                .filter(c -> c.domainIdCount() == 65536 && c.mgaw() == 48)).hasSize(4);
        assertThat(rows.stream().map(r -> Capability.parse(r[4].trim()))
                .filter(c -> c.domainIdCount() == 256 && c.mgaw() == 39)).hasSize(8);
        assertThat(rows.stream().map(r -> r[4].trim()))
                .contains("d2008c40660462", "8d2078c106f0466", "c0000020e60262");
    }
}
