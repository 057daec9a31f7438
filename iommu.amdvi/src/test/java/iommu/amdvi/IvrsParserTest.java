package iommu.amdvi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.amdvi.Ivrs.DeviceEntry;
import iommu.amdvi.Ivrs.Ivhd;
import iommu.amdvi.Ivrs.Ivmd;
import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/** The IVRS parser on the project's iasl-compiled tables and on malformed variants of them. */
class IvrsParserTest {

    static byte[] table(String name) {
        try (InputStream in = IvrsParserTest.class.getResourceAsStream("/ivrs/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource /ivrs/" + name + " missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sets the checksum byte so that the table's bytes sum to zero again. */
    static byte[] fixChecksum(byte[] b) {
        b[9] = 0;
        int length = (b[4] & 0xFF) | (b[5] & 0xFF) << 8;
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += b[i];
        }
        b[9] = (byte) -sum;
        return b;
    }

    static void putU16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    static Ivrs parse(byte[] b) {
        return IvrsParser.parse("t.aml", b);
    }

    @Test
    void readsTheHeaderAndIvinfo() {
        Ivrs t = parse(table("ivrs-10h.aml"));
        assertThat(t.revision()).isEqualTo(1);
        assertThat(t.oemId()).isEqualTo("IOMMU");
        assertThat(t.oemTableId()).isEqualTo("AMDVI10H");
        assertThat(t.ivinfo()).isEqualTo(0x00203040L);
        assertThat(t.efrSupported()).isFalse();
        assertThat(t.physicalAddressSize()).isEqualTo(48);
        assertThat(t.virtualAddressSize()).isEqualTo(64);
        assertThat(t.gvaSize()).isEqualTo(2);
        assertThat(t.warnings()).isEmpty();
    }

    @Test
    void readsEveryFourAndEightByteDeviceEntryOfAType10hBlock() {
        Ivrs t = parse(table("ivrs-10h.aml"));
        assertThat(t.ivhds()).hasSize(1);
        Ivhd h = t.ivhds().get(0);
        assertThat(h.type()).isEqualTo(0x10);
        assertThat(h.offset()).isEqualTo(48);
        assertThat(h.length()).isEqualTo(0x68);
        assertThat(h.flags()).isEqualTo(0xB0);
        assertThat(h.deviceId()).isEqualTo(0x0002);
        assertThat(h.capabilityOffset()).isEqualTo(0x40);
        assertThat(h.baseAddress()).isEqualTo(0xFEB80000L);
        assertThat(h.featureInfo()).isEqualTo(0x80000060L);
        assertThat(h.entries()).extracting(DeviceEntry::type).containsExactly(0x02, 0x03, 0x04, 0x00, 0x02, 0x02,
                0x42, 0x43, 0x04, 0x46, 0x47, 0x04, 0x48, 0x48);
        assertThat(h.entries()).extracting(DeviceEntry::offset).startsWith(72, 76, 80, 84, 88, 92, 96, 104, 112);
        DeviceEntry alias = h.entries().get(6);
        assertThat(alias.deviceId()).isEqualTo(0x0500);
        assertThat(alias.aliasSource()).isEqualTo(0x00A4);
        DeviceEntry ext = h.entries().get(9);
        assertThat(ext.data()).isEqualTo(0x80000000L);
        DeviceEntry ioapic = h.entries().get(12);
        assertThat(ioapic.variety()).isEqualTo(DeviceEntry.VARIETY_IOAPIC);
        assertThat(ioapic.handle()).isEqualTo(0x21);
        assertThat(ioapic.specialSource()).isEqualTo(0x00A0);
        assertThat(ioapic.setting()).isEqualTo(0xD7);
        assertThat(h.entries().get(13).variety()).isEqualTo(DeviceEntry.VARIETY_HPET);
    }

    @Test
    void readsIvmdBlocksOfAllThreeTypes() {
        List<Ivmd> m = parse(table("ivrs-10h.aml")).ivmds();
        assertThat(m).extracting(Ivmd::type).containsExactly(0x20, 0x21, 0x22);
        assertThat(m.get(0).firstDevice()).isZero();
        assertThat(m.get(0).lastDevice()).isEqualTo(0xFFFF);
        assertThat(m.get(0).start()).isEqualTo(0xFEE00000L);
        assertThat(m.get(0).blockLength()).isEqualTo(0x100000L);
        assertThat(m.get(1).firstDevice()).isEqualTo(0x0700);
        assertThat(m.get(1).lastDevice()).isEqualTo(0x0700);
        assertThat(m.get(1).flags()).isEqualTo(0x08);
        assertThat(m.get(2).firstDevice()).isEqualTo(0x0800);
        assertThat(m.get(2).lastDevice()).isEqualTo(0x0803);
    }

    @Test
    void resolvesSelectsRangesAliasesAndSpecialsIntoTheUnitsDevices() {
        IvrsPlatform p = IvrsPlatform.of(parse(table("ivrs-10h.aml")));
        assertThat(p.units()).hasSize(1);
        UnitDefinition u = p.units().get(0);
        assertThat(u.id()).isEqualTo("ivhd0");
        assertThat(u.named().stream().boxed().toList()).containsExactly(0x0000, 0x0008, 0x0009, 0x000A, 0x000B,
                0x000C, 0x000D, 0x000E, 0x000F, 0x00A0, 0x00A4, 0x00A5, 0x0500, 0x0600, 0x0601, 0x0602, 0x0603,
                0x0700, 0x0800, 0x0801, 0x0802, 0x0803, 0x0804, 0x0805, 0x0806, 0x0807);
        assertThat(u.requesterId(0x0500)).isEqualTo(0x00A4);
        assertThat(u.requesterId(0x0602)).isEqualTo(0x00A5);
        assertThat(u.requesterId(0x0700)).isEqualTo(0x0700);
        assertThat(u.setting(0x00A0)).isEqualTo(0xD7);
        assertThat(u.extendedSetting(0x0700)).isEqualTo(0x80000000L);
        assertThat(u.scopeOf(PciAddress.parse("0000:06:00.3"))).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(u.scopeOf(PciAddress.parse("0000:06:00.4"))).isEqualTo(ScopeMatch.NONE);
        assertThat(u.scopeOf(PciAddress.parse("0001:00:00.0"))).isEqualTo(ScopeMatch.NONE);
        assertThat(u.lastDeviceId()).isEqualTo(0x0807);
        // IVMD 20h reserves memory for every device of the segment
        assertThat(u.hasReservedMemory(PciAddress.parse("0000:00:01.3"))).isTrue();
        assertThat(u.efr().invalidateAllSupported()).isTrue();
        assertThat(u.efr().hats()).isEqualTo(2);
    }

    @Test
    void usesTheHighestTypeBlockOfEachIommu() {
        Ivrs t = parse(table("ivrs-11h.aml"));
        assertThat(t.ivhds()).extracting(Ivhd::type).containsExactly(0x10, 0x11, 0x10, 0x11);
        IvrsPlatform p = IvrsPlatform.of(t);
        assertThat(p.warnings()).isEmpty();
        assertThat(p.units()).extracting(UnitDefinition::id).containsExactly("ivhd0", "ivhd1");
        assertThat(p.units()).extracting(u -> u.ivhd().type()).containsExactly(0x11, 0x11);
        assertThat(p.units()).extracting(UnitDefinition::registerBase).containsExactly(0xFD200000L, 0xF6200000L);
        assertThat(p.units().get(0).efr().raw()).isEqualTo(0x0000000F003D4BDFL);
        assertThat(p.units().get(1).efr().invalidateAllSupported()).isFalse();
        assertThat(p.units().get(0).namedCount()).isEqualTo(8 + 1 + 256 + 1 - 1); // less 00:00.2, the IOMMU itself
        UnitDefinition second = p.units().get(1);
        assertThat(second.requesterId(0x4300)).isEqualTo(0x4208);
        assertThat(second.requesterId(0x4308)).isEqualTo(0x4208);
        assertThat(second.hasReservedMemory(PciAddress.parse("41:00.0"))).isTrue();
        assertThat(second.hasReservedMemory(PciAddress.parse("41:00.1"))).isFalse();
        // amd_iommu_get_resv_regions: the IVMD's unity range is the device's direct region
        assertThat(second.unityRegions(PciAddress.parse("41:00.0"))).containsExactly(
                new iommu.api.spi.IovaRegion(0xDE000000L, 0xDE1FFFFFL, iommu.api.spi.IovaRegion.Type.DIRECT));
        assertThat(second.unityRegions(PciAddress.parse("41:00.1"))).isEmpty();
    }

    @Test
    void readsType40hBlocksWithAcpiHidEntries() {
        Ivrs t = parse(table("ivrs-40h.aml"));
        assertThat(t.warnings()).isEmpty();
        assertThat(t.ivhds()).extracting(Ivhd::type).containsExactly(0x10, 0x40, 0x40);
        Ivhd h = t.ivhds().get(1);
        List<DeviceEntry> hids = h.entries().stream().filter(e -> e.type() == DeviceEntry.ACPI_HID).toList();
        assertThat(hids).hasSize(2);
        assertThat(hids.get(0).hid()).isEqualTo("AMDI0020");
        assertThat(hids.get(0).cid()).isNull();
        assertThat(hids.get(0).uid()).isEqualTo("\\_SB.FUR0");
        assertThat(hids.get(0).length()).isEqualTo(22 + 9);
        assertThat(hids.get(0).deviceId()).isEqualTo(0x00A5);
        assertThat(hids.get(1).hid()).isEqualTo("AMDI0010");
        assertThat(hids.get(1).cid()).isEqualTo("PNP0C50");
        assertThat(hids.get(1).uid()).isEqualTo("3");
        IvrsPlatform p = IvrsPlatform.of(t);
        assertThat(p.units()).hasSize(2);
        assertThat(p.units().get(0).ivhd().type()).isEqualTo(0x40);
        assertThat(p.units().get(0).scopeOf(PciAddress.parse("00:14.5"))).isEqualTo(ScopeMatch.ENDPOINT);
        UnitDefinition all = p.units().get(1);
        assertThat(all.segment()).isEqualTo(1);
        assertThat(all.includesAll()).isTrue();
        assertThat(all.scopeOf(PciAddress.parse("0001:7f:03.1"))).isEqualTo(ScopeMatch.SEGMENT);
        assertThat(all.scopeOf(PciAddress.parse("0000:7f:03.1"))).isEqualTo(ScopeMatch.NONE);
    }

    // ---- malformed tables: one clear error, nothing read

    @Test
    void anEmptyFileIsRefused() {
        assertThatThrownBy(() -> parse(new byte[0])).isInstanceOf(IvrsFormatException.class)
                .hasMessage("IVRS t.aml: empty file: expected an ACPI IVRS table (a 48-byte header starting with"
                        + " \"IVRS\")");
    }

    @Test
    void aWrongSignatureIsRefused() {
        byte[] b = table("ivrs-10h.aml");
        b[0] = 'D';
        b[1] = 'M';
        b[2] = 'A';
        b[3] = 'R';
        assertThatThrownBy(() -> parse(b)).hasMessage(
                "IVRS t.aml: byte 0x0: signature \"DMAR\" (44 4d 41 52): expected \"IVRS\"");
    }

    @Test
    void aTruncatedTableIsRefused() {
        byte[] b = Arrays.copyOf(table("ivrs-10h.aml"), 200);
        assertThatThrownBy(() -> parse(b)).hasMessage("IVRS t.aml: byte 0x4: table length 248 but the file has 200"
                + " bytes: expected the whole table (truncated?)");
        assertThatThrownBy(() -> parse(Arrays.copyOf(b, 40))).hasMessage("IVRS t.aml: byte 0x28: the file ends"
                + " after 40 bytes: expected at least 48 (36-byte ACPI header, IVinfo, 8 reserved bytes)");
    }

    @Test
    void aBadChecksumIsRefused() {
        byte[] b = table("ivrs-10h.aml");
        b[9] ^= 0x01;
        assertThatThrownBy(() -> parse(b)).hasMessage("IVRS t.aml: byte 0x9: checksum 0xf3 makes the table's 248"
                + " bytes sum to 0x01: expected a sum of 0 (checksum 0xf2)");
    }

    @Test
    void aTableLengthShorterThanTheHeaderIsRefused() {
        byte[] b = table("ivrs-10h.aml");
        b[4] = 20;
        assertThatThrownBy(() -> parse(b)).hasMessage("IVRS t.aml: byte 0x4: table length 20: expected at least 48"
                + " (36-byte ACPI header, IVinfo, 8 reserved bytes)");
    }

    // ---- malformed blocks: reported, the well-formed ones kept

    @Test
    void aZeroBlockLengthStopsTheWalkAndKeepsTheBlocksBefore() {
        byte[] b = table("ivrs-11h.aml");
        int third = 48 + u16(b, 50) + u16(b, 48 + u16(b, 50) + 2);
        putU16(b, third + 2, 0);
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).hasSize(2);
        assertThat(t.warnings()).containsExactly(String.format("IVRS t.aml: byte 0x%x: IVHD type 10h has length 0:"
                + " expected at least 24; this block and those after it not read", third));
        assertThat(IvrsPlatform.of(t).units()).extracting(UnitDefinition::registerBase).containsExactly(0xFD200000L);
    }

    /** As the DMAR parser refuses a structure running past its table's end: the whole table, not the block. */
    @Test
    void anOverlongBlockRefusesTheTable() {
        byte[] b = table("ivrs-10h.aml");
        putU16(b, 48 + 2, 0x200);
        assertThatThrownBy(() -> parse(fixChecksum(b))).isInstanceOf(IvrsFormatException.class).hasMessage(
                "IVRS t.aml: byte 0x32: IVHD type 10h at byte 0x30 has length 512, running to byte 0x230, past the"
                        + " table's end at byte 0xf8: expected each block to end within the table (at most 200);"
                        + " the table is refused");
    }

    @Test
    void aTruncatedDeviceEntrySkipsItsBlockOnly() {
        byte[] b = table("ivrs-11h.aml");
        // shorten the first IVHD by 2 bytes and pad it as a 2-byte prefix of the next entry
        int first = 48;
        int length = u16(b, first + 2);
        // last entry of block 0 is a 4-byte select: make it an 8-byte type (46h) that does not fit
        b[first + length - 4] = 0x46;
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).hasSize(3);
        assertThat(t.warnings()).containsExactly(String.format("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU"
                + " 0000:00:00.2, base 0xfd200000): byte 0x%x: extended select device entry (type 46h) needs 8"
                + " bytes, only 4 left in the block: expected the block length to cover whole entries",
                first + length - 4));
        // the 11h block of the same IOMMU is still there
        assertThat(IvrsPlatform.of(t).units()).extracting(u -> u.ivhd().type()).containsExactly(0x11, 0x11);
    }

    @Test
    void aMalformedHigherTypeBlockFallsBackToTheLowerOne() {
        byte[] b = table("ivrs-11h.aml");
        int second = 48 + u16(b, 50);
        // the 11h block's first entry, a range start (03h), becomes a range end (04h) without a start
        b[second + 40] = 0x04;
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.warnings()).hasSize(1);
        assertThat(t.warnings().get(0)).isEqualTo(String.format("IVRS t.aml: IVHD type 11h at byte 0x%x (IOMMU"
                + " 0000:00:00.2, base 0xfd200000): byte 0x%x: range end (type 04h, device 00:00.0) without a range"
                + " start: expected a type 03h, 43h or 47h entry before it", second, second + 40));
        IvrsPlatform p = IvrsPlatform.of(t);
        assertThat(p.units()).extracting(u -> u.ivhd().type()).containsExactly(0x10, 0x11);
        assertThat(p.units().get(0).namedCount()).isEqualTo(8 + 1 + 256 + 1 - 1); // less 00:00.2, the IOMMU itself
    }

    @Test
    void aRangeStartNotFollowedByItsEndIsReported() {
        byte[] b = table("ivrs-10h.aml");
        b[80] = 0x02; // the range end after the start at byte 76 becomes a select
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).isEmpty();
        assertThat(t.warnings()).containsExactly("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU 0000:00:00.2, base"
                + " 0xfeb80000): byte 0x50: select device entry (type 02h) where the range start at byte 0x4c"
                + " expects its range end: expected type 04h");
    }

    @Test
    void aMisalignedBaseAddressIsReported() {
        byte[] b = table("ivrs-10h.aml");
        b[56] = 0x10;
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.warnings()).containsExactly("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU 0000:00:00.2, base"
                + " 0xfeb80010): byte 0x38: IOMMU base address 0xfeb80010: expected a nonzero 16 KiB-aligned MMIO"
                + " base");
    }

    @Test
    void anUnknownSpecialVarietyIsReported() {
        byte[] b = table("ivrs-10h.aml");
        b[0x8F] = 7;
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).isEmpty();
        assertThat(t.warnings()).containsExactly("IVRS t.aml: IVHD type 10h at byte 0x30 (IOMMU 0000:00:00.2, base"
                + " 0xfeb80000): byte 0x8f: special device entry of variety 7: expected 1 (IOAPIC) or 2 (HPET)");
    }

    @Test
    void anIvmdRangeEndingBeforeItsStartIsReportedAndTheRestKept() {
        byte[] b = table("ivrs-10h.aml");
        putU16(b, 0xDE, 0x07FF);
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).hasSize(1);
        assertThat(t.ivmds()).extracting(Ivmd::type).containsExactly(0x20, 0x21);
        assertThat(t.warnings()).containsExactly("IVRS t.aml: IVMD type 22h at byte 0xd8: byte 0xde: device range"
                + " 08:00.0..07:1f.7 ends before it starts: expected the last device (auxiliary data) at or after"
                + " the first");
    }

    @Test
    void anUnknownBlockTypeIsSkippedByItsLength() {
        byte[] b = table("ivrs-10h.aml");
        b[0xB8] = 0x30; // the IVMD 21h becomes an unknown type 30h of 32 bytes
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivmds()).extracting(Ivmd::type).containsExactly(0x20, 0x22);
        assertThat(t.warnings()).containsExactly("IVRS t.aml: byte 0xb8: unknown block type 30h of 32 bytes: skipped"
                + " (expected IVHD 10h, 11h, 40h or IVMD 20h, 21h, 22h)");
    }

    @Test
    void anAcpiHidEntryRunningPastItsBlockIsReported() {
        byte[] b = table("ivrs-40h.aml");
        Ivrs good = parse(b);
        DeviceEntry hid = good.ivhds().get(1).entries().stream().filter(e -> e.type() == DeviceEntry.ACPI_HID)
                .findFirst().orElseThrow();
        b[hid.offset() + 21] = (byte) 0xF0; // a UID of 240 bytes
        Ivrs t = parse(fixChecksum(b));
        assertThat(t.ivhds()).extracting(Ivhd::type).containsExactly(0x10, 0x40);
        assertThat(t.warnings()).singleElement().asString().contains(String.format("byte 0x%x: ACPI HID device"
                + " entry (type f0h) needs 262 bytes", hid.offset()));
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }
}
