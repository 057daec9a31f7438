package iommu.amdvi;

import java.util.List;
import java.util.Objects;

/**
 * An ACPI IVRS table as {@link IvrsParser} read it: the header, IVinfo, the
 * well-formed IVHD and IVMD blocks in table order, and one line per problem
 * that did not stop the parse (a malformed block, an unknown block type).
 *
 * <p>Layout (AMD I/O Virtualization Technology specification, 48882; Linux
 * {@code drivers/iommu/amd/init.c}): a 36-byte ACPI header, IVinfo (u32) at
 * 36, 8 reserved bytes, then blocks from byte 48, each starting with type
 * (u8), flags (u8), length (u16).
 */
record Ivrs(String source, int revision, String oemId, String oemTableId, long ivinfo, List<Ivhd> ivhds,
        List<Ivmd> ivmds, List<String> warnings, List<MalformedIvhd> malformedIvhds) {

    static final int HEADER_LENGTH = 48;

    Ivrs {
        Objects.requireNonNull(source, "source");
        ivhds = List.copyOf(ivhds);
        ivmds = List.copyOf(ivmds);
        warnings = List.copyOf(warnings);
        malformedIvhds = List.copyOf(malformedIvhds);
    }

    /**
     * An IVHD block left out for a malformed field or device entry (its
     * warning says which): the IOMMU it describes, so that the platform can
     * say whether that IOMMU is registered at all.
     */
    record MalformedIvhd(int offset, int type, int segment, int deviceId, long baseAddress) {

        String describe() {
            return String.format("IVHD type %02xh at byte 0x%x", type, offset);
        }
    }

    /** IVinfo bit 0: the IVHDs of type 11h/40h carry the EFR image. */
    boolean efrSupported() {
        return (ivinfo & 1) != 0;
    }

    /** IVinfo bit 1: the firmware asks for DMA remapping to stay on (pre-boot DMA protection opt-in). */
    boolean dmaGuardOptIn() {
        return (ivinfo & 2) != 0;
    }

    /** IVinfo bits 7:5: guest virtual address size (0: 48 bits). */
    int gvaSize() {
        return (int) (ivinfo >>> 5) & 0x7;
    }

    /** IVinfo bits 14:8: physical address size in bits. */
    int physicalAddressSize() {
        return (int) (ivinfo >>> 8) & 0x7F;
    }

    /** IVinfo bits 21:15: virtual address size in bits. */
    int virtualAddressSize() {
        return (int) (ivinfo >>> 15) & 0x7F;
    }

    /** IVinfo bit 22: ATS response address range reserved (HtAtsResv). */
    boolean htAtsReserved() {
        return (ivinfo >>> 22 & 1) != 0;
    }

    /**
     * One I/O virtualization hardware definition block: one IOMMU, described
     * by a block of type 10h (24-byte header), 11h or 40h (40-byte header,
     * with the EFR image), followed by its device entries.
     *
     * @param offset byte offset of the block in the table
     * @param deviceId the IOMMU's own PCI routing id on its segment
     * @param info IOMMU info: MSI number 4:0, UnitID 12:8
     * @param featureInfo type 10h: IOMMU feature reporting; 11h/40h: IOMMU attributes
     * @param efr type 11h/40h: the image of the Extended Feature Register; 10h: 0
     * @param efr2 type 11h/40h: the image of EFR2; 10h: 0
     */
    record Ivhd(int offset, int type, int flags, int length, int deviceId, int capabilityOffset, long baseAddress,
            int segment, int info, long featureInfo, long efr, long efr2, List<DeviceEntry> entries) {

        Ivhd {
            entries = List.copyOf(entries);
        }

        static int headerLength(int type) {
            return type == 0x10 ? 24 : 40;
        }

        /** How this block is named in messages: type, offset and base. */
        String describe() {
            return String.format("IVHD type %02xh at byte 0x%x (IOMMU %04x:%s, base 0x%x)", type, offset, segment,
                    Bdf.of(deviceId), baseAddress);
        }
    }

    /**
     * One IVHD device entry as it stands in the table.
     *
     * @param offset byte offset of the entry in the table
     * @param setting the DTE setting byte (INITPass 0, EIntPass 1, NMIPass 2, SysMgt 5:4, Lint0Pass 6, Lint1Pass 7)
     * @param data bytes 4..7 of an 8-byte entry as a little-endian u32 (alias: source id in 23:8; extended:
     *        the extended setting; special: handle 7:0, source id 23:8, variety 31:24); 0 otherwise
     * @param hid ACPI HID entries: the hardware id; else null
     * @param cid ACPI HID entries: the compatible id, or null when zero
     * @param uid ACPI HID entries: the unique id, or null when absent
     */
    record DeviceEntry(int offset, int type, int deviceId, int setting, int length, long data, String hid, String cid,
            String uid) {

        static final int PAD = 0x00;
        static final int ALL = 0x01;
        static final int SELECT = 0x02;
        static final int RANGE_START = 0x03;
        static final int RANGE_END = 0x04;
        static final int ALIAS_SELECT = 0x42;
        static final int ALIAS_RANGE = 0x43;
        static final int EXT_SELECT = 0x46;
        static final int EXT_RANGE = 0x47;
        static final int SPECIAL = 0x48;
        static final int ACPI_HID = 0xF0;

        static final int VARIETY_IOAPIC = 1;
        static final int VARIETY_HPET = 2;

        /** Alias entries: the requester id the device's DMA arrives with. */
        int aliasSource() {
            return (int) (data >>> 8) & 0xFFFF;
        }

        /** Special entries: the IOAPIC id or HPET number. */
        int handle() {
            return (int) data & 0xFF;
        }

        /** Special entries: the requester id of the IOAPIC or HPET. */
        int specialSource() {
            return (int) (data >>> 8) & 0xFFFF;
        }

        /** Special entries: 1 IOAPIC, 2 HPET. */
        int variety() {
            return (int) (data >>> 24) & 0xFF;
        }

        String typeName() {
            return switch (type) {
                case PAD -> "padding";
                case ALL -> "all";
                case SELECT -> "select";
                case RANGE_START -> "range start";
                case RANGE_END -> "range end";
                case ALIAS_SELECT -> "alias select";
                case ALIAS_RANGE -> "alias range";
                case EXT_SELECT -> "extended select";
                case EXT_RANGE -> "extended range";
                case SPECIAL -> "special";
                case ACPI_HID -> "ACPI HID";
                default -> String.format("reserved type %02xh", type);
            };
        }
    }

    /**
     * One I/O virtualization memory definition block: memory the firmware
     * keeps for devices (unity-mapped or excluded), for all devices (20h),
     * one device (21h) or a range of devices (22h).
     *
     * @param firstDevice 21h, 22h: the first device id; 20h: 0
     * @param lastDevice 21h: the device id; 22h: the last device id (auxiliary data); 20h: 0xffff
     * @param flags Unity 0, IR 1, IW 2, ExclusionRange 3
     */
    record Ivmd(int offset, int type, int flags, int segment, int firstDevice, int lastDevice, long start,
            long blockLength) {

        static final int ALL = 0x20;
        static final int SELECT = 0x21;
        static final int RANGE = 0x22;

        boolean covers(int segment, int deviceId) {
            return segment == this.segment && deviceId >= firstDevice && deviceId <= lastDevice;
        }

        String describe() {
            String whom = switch (type) {
                case ALL -> "all devices";
                case SELECT -> Bdf.of(segment, firstDevice);
                default -> Bdf.of(segment, firstDevice) + ".." + Bdf.of(lastDevice);
            };
            return String.format("IVMD %02xh %s [0x%x, +0x%x]%s%s%s%s", type, whom, start, blockLength,
                    (flags & 1) != 0 ? " unity" : "", (flags & 2) != 0 ? " IR" : "", (flags & 4) != 0 ? " IW" : "",
                    (flags & 8) != 0 ? " exclusion" : "");
        }
    }
}
