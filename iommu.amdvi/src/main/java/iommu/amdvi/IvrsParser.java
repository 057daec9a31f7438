package iommu.amdvi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import iommu.amdvi.Ivrs.DeviceEntry;
import iommu.amdvi.Ivrs.Ivhd;
import iommu.amdvi.Ivrs.Ivmd;

/**
 * Reads an ACPI IVRS table, as {@code acpidump -b} writes it or iasl
 * compiles it, checking every length, offset and the checksum before anything
 * is used.
 *
 * <p>What stops the whole table (an {@link IvrsFormatException}): an empty or
 * short file, a wrong signature, a table length shorter than the 48-byte
 * header or longer than the file, a checksum that does not make the table sum
 * to zero, a block whose length runs past the table's end (as the DMAR parser
 * refuses a structure running past its table: the table is cut or its lengths
 * are wrong, and nothing of it can be trusted). What stops one block (a
 * warning, the others are kept; an IVHD is also listed in
 * {@link Ivrs#malformedIvhds}): a malformed device entry, a range end without
 * its start, a bad field. A block length too small for the block's header
 * stops the walk there (the next block cannot be found): the blocks before it
 * are kept, and the warning says so.
 */
final class IvrsParser {

    static final String SIGNATURE = "IVRS";
    private static final int ACPI_HEADER = 36;
    private static final int IVMD_LENGTH = 32;

    private final String source;
    private final byte[] b;
    private int tableLength;

    private IvrsParser(String source, byte[] bytes) {
        this.source = source;
        this.b = bytes;
    }

    /** Whether the bytes start with the IVRS signature. */
    static boolean hasSignature(byte[] head) {
        return head.length >= 4 && SIGNATURE.equals(new String(head, 0, 4, StandardCharsets.ISO_8859_1));
    }

    /**
     * Parses the table.
     *
     * @param source how messages name the input (a path)
     * @throws IvrsFormatException naming the byte offset, what is wrong and what was expected
     */
    static Ivrs parse(String source, byte[] bytes) {
        return new IvrsParser(source, bytes).parse();
    }

    private IvrsFormatException error(int offset, String what) {
        return new IvrsFormatException(String.format("IVRS %s: byte 0x%x: %s", source, offset, what));
    }

    private Ivrs parse() {
        if (b.length == 0) {
            throw new IvrsFormatException("IVRS " + source
                    + ": empty file: expected an ACPI IVRS table (a 48-byte header starting with \"IVRS\")");
        }
        if (b.length < 4 || !hasSignature(b)) {
            int n = Math.min(4, b.length);
            throw error(0, String.format("signature \"%s\" (%s): expected \"IVRS\"",
                    printable(0, n), hex(0, n)));
        }
        if (b.length < Ivrs.HEADER_LENGTH) {
            throw error(b.length, String.format("the file ends after %d bytes: expected at least %d (36-byte ACPI"
                    + " header, IVinfo, 8 reserved bytes)", b.length, Ivrs.HEADER_LENGTH));
        }
        long length = u32(4);
        if (length < Ivrs.HEADER_LENGTH) {
            throw error(4, String.format("table length %d: expected at least %d (36-byte ACPI header, IVinfo,"
                    + " 8 reserved bytes)", length, Ivrs.HEADER_LENGTH));
        }
        if (length > b.length) {
            throw error(4, String.format("table length %d but the file has %d bytes: expected the whole table"
                    + " (truncated?)", length, b.length));
        }
        tableLength = (int) length;
        int sum = 0;
        for (int i = 0; i < tableLength; i++) {
            sum += b[i];
        }
        sum &= 0xFF;
        if (sum != 0) {
            throw error(9, String.format("checksum 0x%02x makes the table's %d bytes sum to 0x%02x: expected a sum"
                    + " of 0 (checksum 0x%02x)", u8(9), tableLength, sum, (u8(9) - sum) & 0xFF));
        }
        List<String> warnings = new ArrayList<>();
        if (b.length > tableLength) {
            warnings.add(String.format("IVRS %s: %d bytes after the table's length %d ignored", source,
                    b.length - tableLength, tableLength));
        }
        List<Ivhd> ivhds = new ArrayList<>();
        List<Ivmd> ivmds = new ArrayList<>();
        List<Ivrs.MalformedIvhd> malformed = new ArrayList<>();
        int offset = Ivrs.HEADER_LENGTH;
        while (offset < tableLength) {
            if (tableLength - offset < 4) {
                warnings.add(String.format("IVRS %s: byte 0x%x: %d bytes left before the table's end: expected a"
                        + " block header (type, flags, length) of 4 bytes; ignored", source, offset,
                        tableLength - offset));
                break;
            }
            int type = u8(offset);
            int blockLength = u16(offset + 2);
            int minimum = minimumLength(type);
            String name = blockName(type);
            if (blockLength < minimum) {
                warnings.add(String.format("IVRS %s: byte 0x%x: %s has length %d: expected at least %d; this block"
                        + " and those after it not read", source, offset, name, blockLength, minimum));
                break;
            }
            if (offset + blockLength > tableLength) {
                throw error(offset + 2, String.format("%s at byte 0x%x has length %d, running to byte 0x%x, past the"
                        + " table's end at byte 0x%x: expected each block to end within the table (at most %d);"
                        + " the table is refused", name, offset, blockLength, offset + blockLength, tableLength,
                        tableLength - offset));
            }
            try {
                switch (type) {
                    case 0x10, 0x11, 0x40 -> ivhds.add(ivhd(offset, type, blockLength, warnings));
                    case Ivmd.ALL, Ivmd.SELECT, Ivmd.RANGE -> ivmds.add(ivmd(offset, type, blockLength));
                    default -> warnings.add(String.format("IVRS %s: byte 0x%x: unknown block type %02xh of %d"
                            + " bytes: skipped (expected IVHD 10h, 11h, 40h or IVMD 20h, 21h, 22h)", source, offset,
                            type, blockLength));
                }
            } catch (IvrsFormatException e) {
                warnings.add(e.getMessage());
                if (type == 0x10 || type == 0x11 || type == 0x40) {
                    malformed.add(new Ivrs.MalformedIvhd(offset, type, u16(offset + 16), u16(offset + 4),
                            u64(offset + 8)));
                }
            }
            offset += blockLength;
        }
        return new Ivrs(source, u8(8), ascii(10, 6), ascii(16, 8), u32(36), ivhds, ivmds, warnings,
                malformed);
    }

    private static int minimumLength(int type) {
        return switch (type) {
            case 0x10 -> 24;
            case 0x11, 0x40 -> 40;
            case Ivmd.ALL, Ivmd.SELECT, Ivmd.RANGE -> IVMD_LENGTH;
            default -> 4;
        };
    }

    private static String blockName(int type) {
        return switch (type) {
            case 0x10, 0x11, 0x40 -> String.format("IVHD type %02xh", type);
            case Ivmd.ALL, Ivmd.SELECT, Ivmd.RANGE -> String.format("IVMD type %02xh", type);
            default -> String.format("block type %02xh", type);
        };
    }

    // ---- IVHD

    private Ivhd ivhd(int offset, int type, int length, List<String> warnings) {
        int header = Ivhd.headerLength(type);
        int deviceId = u16(offset + 4);
        long base = u64(offset + 8);
        int segment = u16(offset + 16);
        String block = String.format("IVRS %s: IVHD type %02xh at byte 0x%x (IOMMU %s, base 0x%x)", source, type,
                offset, Bdf.of(segment, deviceId), base);
        if (base == 0 || (base & 0x3FFF) != 0) {
            throw new IvrsFormatException(String.format("%s: byte 0x%x: IOMMU base address 0x%x: expected a"
                    + " nonzero 16 KiB-aligned MMIO base", block, offset + 8, base));
        }
        long featureInfo = u32(offset + 20);
        long efr = header == 40 ? u64(offset + 24) : 0;
        long efr2 = header == 40 ? u64(offset + 32) : 0;
        List<DeviceEntry> entries = new ArrayList<>();
        int end = offset + length;
        int p = offset + header;
        DeviceEntry rangeStart = null;
        while (p < end) {
            int t = u8(p);
            int entryLength;
            if (t < 0x80) {
                entryLength = 4 << (t >>> 6);
            } else if (t == DeviceEntry.ACPI_HID) {
                if (end - p < 22) {
                    throw new IvrsFormatException(String.format("%s: byte 0x%x: ACPI HID device entry needs at least"
                            + " 22 bytes, only %d left in the block: expected the block length to cover whole"
                            + " entries", block, p, end - p));
                }
                entryLength = 22 + u8(p + 21);
            } else {
                throw new IvrsFormatException(String.format("%s: byte 0x%x: device entry type %02xh has no length"
                        + " known: expected a type below 80h (4 or 8 bytes) or F0h (ACPI HID)", block, p, t));
            }
            if (p + entryLength > end) {
                throw new IvrsFormatException(String.format("%s: byte 0x%x: %s device entry (type %02xh) needs %d"
                        + " bytes, only %d left in the block: expected the block length to cover whole entries",
                        block, p, entryName(t), t, entryLength, end - p));
            }
            DeviceEntry e = entry(p, t, entryLength);
            if (rangeStart != null && t != DeviceEntry.RANGE_END) {
                throw new IvrsFormatException(String.format("%s: byte 0x%x: %s device entry (type %02xh) where the"
                        + " %s at byte 0x%x expects its range end: expected type 04h", block, p, e.typeName(), t,
                        rangeStart.typeName(), rangeStart.offset()));
            }
            switch (t) {
                case DeviceEntry.RANGE_START, DeviceEntry.ALIAS_RANGE, DeviceEntry.EXT_RANGE -> rangeStart = e;
                case DeviceEntry.RANGE_END -> {
                    if (rangeStart == null) {
                        throw new IvrsFormatException(String.format("%s: byte 0x%x: range end (type 04h, device %s)"
                                + " without a range start: expected a type 03h, 43h or 47h entry before it", block,
                                p, Bdf.of(e.deviceId())));
                    }
                    if (e.deviceId() < rangeStart.deviceId()) {
                        throw new IvrsFormatException(String.format("%s: byte 0x%x: range end %s lies before its"
                                + " start %s (byte 0x%x): expected an end at or after the start", block, p,
                                Bdf.of(e.deviceId()), Bdf.of(rangeStart.deviceId()), rangeStart.offset()));
                    }
                    rangeStart = null;
                }
                case DeviceEntry.SPECIAL -> {
                    if (e.variety() != DeviceEntry.VARIETY_IOAPIC && e.variety() != DeviceEntry.VARIETY_HPET) {
                        throw new IvrsFormatException(String.format("%s: byte 0x%x: special device entry of variety"
                                + " %d: expected 1 (IOAPIC) or 2 (HPET)", block, p + 7, e.variety()));
                    }
                }
                case DeviceEntry.ACPI_HID -> {
                    if (e.hid() == null || e.hid().isEmpty()) {
                        throw new IvrsFormatException(String.format("%s: byte 0x%x: ACPI HID device entry with an"
                                + " empty hardware id: expected an ACPI or PNP id", block, p + 4));
                    }
                }
                case DeviceEntry.PAD, DeviceEntry.ALL, DeviceEntry.SELECT, DeviceEntry.ALIAS_SELECT,
                        DeviceEntry.EXT_SELECT -> {
                    // nothing more to check
                }
                default -> warnings.add(String.format("%s: byte 0x%x: %s device entry of %d bytes skipped", block,
                        p, e.typeName(), entryLength));
            }
            entries.add(e);
            p += entryLength;
        }
        if (rangeStart != null) {
            throw new IvrsFormatException(String.format("%s: byte 0x%x: the block ends inside the %s at byte 0x%x:"
                    + " expected a range end (type 04h)", block, end, rangeStart.typeName(), rangeStart.offset()));
        }
        return new Ivhd(offset, type, u8(offset + 1), length, deviceId, u16(offset + 6), base, segment,
                u16(offset + 18), featureInfo, efr, efr2, entries);
    }

    private static String entryName(int type) {
        return new DeviceEntry(0, type, 0, 0, 0, 0, null, null, null).typeName();
    }

    private DeviceEntry entry(int p, int type, int length) {
        int deviceId = u16(p + 1);
        int setting = u8(p + 3);
        if (type != DeviceEntry.ACPI_HID) {
            return new DeviceEntry(p, type, deviceId, setting, length, length >= 8 ? u32(p + 4) : 0, null, null,
                    null);
        }
        String hid = acpiId(p + 4);
        String cid = u64(p + 12) == 0 ? null : acpiId(p + 12);
        int uidFormat = u8(p + 20);
        int uidLength = u8(p + 21);
        String uid = switch (uidFormat) {
            case 1 -> uidLength == 0 ? "0" : Long.toUnsignedString(uidLength >= 8 ? u64(p + 22) : littleEndian(p + 22,
                    uidLength));
            case 2 -> ascii(p + 22, uidLength);
            default -> null;
        };
        return new DeviceEntry(p, type, deviceId, setting, length, 0, hid, cid, uid);
    }

    /** An 8-byte ACPI id field: a string (e.g. AMDI0020) or an EISA id as a number. */
    private String acpiId(int p) {
        boolean text = true;
        for (int i = 0; i < 8; i++) {
            int c = u8(p + i);
            if (c != 0 && (c < 0x20 || c > 0x7E)) {
                text = false;
            }
        }
        return text ? ascii(p, 8) : String.format("0x%016x", u64(p));
    }

    // ---- IVMD

    private Ivmd ivmd(int offset, int type, int length) {
        int flags = u8(offset + 1);
        int deviceId = u16(offset + 4);
        int aux = u16(offset + 6);
        int segment = u16(offset + 8);
        long start = u64(offset + 16);
        long blockLength = u64(offset + 24);
        String block = String.format("IVRS %s: IVMD type %02xh at byte 0x%x", source, type, offset);
        if (blockLength == 0) {
            throw new IvrsFormatException(String.format("%s: byte 0x%x: memory block length 0: expected at least"
                    + " one byte", block, offset + 24));
        }
        if (Long.compareUnsigned(start + blockLength - 1, start) < 0) {
            throw new IvrsFormatException(String.format("%s: byte 0x%x: memory block [0x%x, +0x%x] wraps past 2^64:"
                    + " expected it within the address space", block, offset + 16, start, blockLength));
        }
        int first;
        int last;
        switch (type) {
            case Ivmd.ALL -> {
                first = 0;
                last = 0xFFFF;
            }
            case Ivmd.SELECT -> {
                first = deviceId;
                last = deviceId;
            }
            default -> {
                if (aux < deviceId) {
                    throw new IvrsFormatException(String.format("%s: byte 0x%x: device range %s..%s ends before it"
                            + " starts: expected the last device (auxiliary data) at or after the first", block,
                            offset + 6, Bdf.of(deviceId), Bdf.of(aux)));
                }
                first = deviceId;
                last = aux;
            }
        }
        return new Ivmd(offset, type, flags, segment, first, last, start, blockLength);
    }

    // ---- bytes

    private int u8(int p) {
        return b[p] & 0xFF;
    }

    private int u16(int p) {
        return u8(p) | u8(p + 1) << 8;
    }

    private long u32(int p) {
        return (u16(p) | (long) u16(p + 2) << 16) & 0xFFFF_FFFFL;
    }

    private long u64(int p) {
        return u32(p) | u32(p + 4) << 32;
    }

    private long littleEndian(int p, int n) {
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = v << 8 | u8(p + i);
        }
        return v;
    }

    private String ascii(int p, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = u8(p + i);
            if (c == 0) {
                break;
            }
            s.append(c >= 0x20 && c <= 0x7E ? (char) c : '?');
        }
        return s.toString().trim();
    }

    private String printable(int p, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = u8(p + i);
            s.append(c >= 0x20 && c <= 0x7E ? (char) c : '.');
        }
        return s.toString();
    }

    private String hex(int p, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : " ").append(String.format("%02x", u8(p + i)));
        }
        return s.toString();
    }
}
