package iommu.amdvi;

import static iommu.amdvi.IvrsParserTest.fixChecksum;
import static iommu.amdvi.IvrsParserTest.putU16;
import static iommu.amdvi.IvrsParserTest.table;
import static iommu.amdvi.IvrsParserTest.u16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.log.FormatterLogger;

import iommu.api.IommuException;
import iommu.api.dto.DiscoveryDTO;

/**
 * An IVHD left out says, in a line of its own, what became of its IOMMU; a
 * block running past the table's end refuses the table (exit 1 in the
 * launcher), as the DMAR parser does.
 */
class MalformedIvhdTest {

    @TempDir
    Path dir;

    private AmdViPlatform platform() {
        return new AmdViPlatform(UnitRegistry.Publisher.NONE, new AmdViPlatform.Config() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return AmdViPlatform.Config.class;
            }

            @Override
            public String path() {
                return "";
            }
        }, (FormatterLogger) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {FormatterLogger.class}, (proxy, method, args) -> null));
    }

    @Test
    void anIvhdLeftOutForAMalformedSpecialEntrySaysItsIommuIsNotRegistered() {
        byte[] b = table("ivrs-10h.aml");
        b[0x8F] = 7; // a special device entry of variety 7
        IvrsPlatform p = IvrsPlatform.parse("t.aml", fixChecksum(b));
        assertThat(p.units()).isEmpty();
        assertThat(p.warnings()).containsExactly("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU 0000:00:00.2, base"
                + " 0xfeb80000): byte 0x8f: special device entry of variety 7: expected 1 (IOAPIC) or 2 (HPET)",
                "IVRS t.aml: IOMMU 0000:00:00.2 (base 0xfeb80000) not registered: its IVHD type 10h at byte 0x30 is"
                        + " malformed (above) and no other IVHD describes it");
    }

    @Test
    void aMalformedBlockWhoseIommuAnotherBlockDescribesSaysWhichOneIsUsed() {
        byte[] b = table("ivrs-11h.aml");
        int second = 48 + u16(b, 50);
        b[second + 40] = 0x04; // the 11h block's first entry becomes a range end without a start
        IvrsPlatform p = IvrsPlatform.parse("t.aml", fixChecksum(b));
        assertThat(p.units()).extracting(u -> u.ivhd().type()).containsExactly(0x10, 0x11);
        assertThat(p.warnings()).hasSize(2).last().isEqualTo(String.format("IVRS t.aml: IOMMU 0000:00:00.2 (base"
                + " 0xfd200000) registered from its IVHD type 10h at byte 0x30: its IVHD type 11h at byte 0x%x is"
                + " malformed (above)", second));
    }

    @Test
    void oneOfTwoIommusLeftOutIsNamedAndTheOtherRegistered() throws IOException {
        byte[] b = table("ivrs-11h.aml");
        // the two blocks of ivhd1 (40:00.2) get a misaligned base
        int offset = 48;
        for (int i = 0; i < 4; i++) {
            if (i >= 2) {
                b[offset + 8] = 0x10;
            }
            offset += u16(b, offset + 2);
        }
        Path ivrs = dir.resolve("ivrs.dat");
        Files.write(ivrs, fixChecksum(b));
        DiscoveryDTO dto = platform().discover(ivrs);
        assertThat(dto.units).containsExactly("ivhd0");
        assertThat(dto.warnings).filteredOn(w -> w.contains("not registered")).containsExactly(
                "IVRS " + ivrs + ": IOMMU 0000:40:00.2 (base 0xf6200010) not registered: its IVHD type 10h at byte"
                        + " 0x" + Integer.toHexString(offsetOf(b, 2)) + " is malformed (above)"
                        + " and no other IVHD describes it",
                "IVRS " + ivrs + ": IOMMU 0000:40:00.2 (base 0xf6200010) not registered: its IVHD type 11h at byte"
                        + " 0x" + Integer.toHexString(offsetOf(b, 3)) + " is malformed (above) and no other IVHD"
                        + " describes it");
    }

    private static int offsetOf(byte[] b, int block) {
        int offset = 48;
        for (int i = 0; i < block; i++) {
            offset += u16(b, offset + 2);
        }
        return offset;
    }

    @Test
    void aBlockRunningPastTheTablesEndRefusesTheTableAndRegistersNothing() throws IOException {
        byte[] b = table("ivrs-11h.aml");
        int last = offsetOf(b, 3);
        putU16(b, last + 2, b.length - last + 8); // 8 bytes past the end, over the IVMD after it
        Path ivrs = dir.resolve("ivrs.dat");
        Files.write(ivrs, fixChecksum(b));
        AmdViPlatform platform = platform();
        assertThatThrownBy(() -> platform.discover(ivrs)).isInstanceOf(IommuException.class)
                .hasMessageStartingWith(String.format("IVRS %s: byte 0x%x: IVHD type 11h at byte 0x%x has length",
                        ivrs, last + 2, last))
                .hasMessageEndingWith("the table is refused");
        assertThat(platform.units()).isEmpty();
    }
}
