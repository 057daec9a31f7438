package iommu.vtd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import iommu.vtd.DmarTable.Andd;
import iommu.vtd.DmarTable.Atsr;
import iommu.vtd.DmarTable.Drhd;
import iommu.vtd.DmarTable.Hop;
import iommu.vtd.DmarTable.Rhsa;
import iommu.vtd.DmarTable.Rmrr;
import iommu.vtd.DmarTable.Satc;
import iommu.vtd.DmarTable.Scope;
import iommu.vtd.DmarTable.Structure;
import iommu.vtd.DmarTable.Unknown;

/**
 * Reads an ACPI DMAR table, the bytes {@code /sys/firmware/acpi/tables/DMAR}
 * or {@code acpidump -b} give (little-endian throughout).
 *
 * <p>Layout (VT-d specification chapter 8; Linux {@code drivers/iommu/intel/dmar.c},
 * Xen {@code xen/drivers/passthrough/vtd/dmar.c}): a 36-byte ACPI header
 * (signature {@code DMAR}, length, revision, checksum over the whole table,
 * OEM and creator ids), the host address width minus one at 36, flags at 37,
 * ten reserved bytes, then from offset 48 remapping structures, each a type
 * (u16) and a length (u16) followed by its fields. DRHD (0): flags, size,
 * segment, register base, device scopes from 16. RMRR (1): reserved, segment,
 * base, limit, scopes from 24. ATSR (2): flags, reserved, segment, scopes
 * from 8. RHSA (3): reserved, register base, proximity domain (20 bytes).
 * ANDD (4): 3 reserved bytes, device number, a NUL-terminated name from 8.
 * SATC (5): flags, reserved, segment, scopes from 8. A device scope: type,
 * length, flags (reserved before VT-d 4), reserved, enumeration id, start bus,
 * then (device, function) byte pairs.
 *
 * <p>What stops the whole parse ({@link DmarFormatException}): an empty or
 * truncated file, a wrong signature, a length field below 48 or beyond the
 * file, a checksum that does not sum to 0, a host address width below 12
 * bits, and a structure header the walk cannot step over (fewer than 4 bytes
 * left, length 0 or below 4, or a length running past the table's end).
 * What is reported as a warning and skipped, the rest kept: a structure too
 * short for its fixed fields, a malformed device scope (short, odd, running
 * past its structure, a device above 1f or a function above 7) which voids
 * its structure, a zero or unaligned DRHD register base, an unknown
 * structure type (skipped by its length, as Linux and Xen do), an unknown
 * scope type (skipped), bytes after the table's length.
 */
public final class DmarParser {

    /** The ACPI header. */
    public static final int HEADER_LENGTH = 36;
    /** Where the first remapping structure starts. */
    public static final int STRUCTURES_OFFSET = 48;
    private static final int DRHD_FIXED = 16;
    private static final int RMRR_FIXED = 24;
    private static final int ATSR_FIXED = 8;
    private static final int RHSA_LENGTH = 20;
    private static final int ANDD_FIXED = 8;
    private static final int SATC_FIXED = 8;
    private static final int SCOPE_HEADER = 6;

    private DmarParser() {
    }

    /** Reads and parses a file; messages name it as given. */
    public static DmarTable parse(Path file) throws IOException {
        return parse(file.toString(), Files.readAllBytes(file));
    }

    /** Whether the bytes start with the DMAR signature. */
    public static boolean hasSignature(byte[] start) {
        return start.length >= 4 && start[0] == 'D' && start[1] == 'M' && start[2] == 'A' && start[3] == 'R';
    }

    /**
     * Parses the bytes; {@code source} names them in messages.
     *
     * @throws DmarFormatException when the table as a whole is malformed; nothing of it is used
     */
    public static DmarTable parse(String source, byte[] bytes) {
        return new Run(source, bytes).parse();
    }

    /** A problem inside one structure: the structure is skipped with a warning. */
    private static final class StructureProblem extends Exception {
        private static final long serialVersionUID = 1L;

        StructureProblem(String message) {
            super(message, null, false, false);
        }
    }

    private static final class Run {
        private final String source;
        private final byte[] b;
        private final List<String> warnings = new ArrayList<>();
        private final int[] counts = new int[6];
        private int unknownCount;

        Run(String source, byte[] bytes) {
            this.source = source;
            this.b = bytes;
        }

        DmarTable parse() {
            if (b.length == 0) {
                throw fatal(0, "header", "empty file: expected an ACPI DMAR table"
                        + " (as /sys/firmware/acpi/tables/DMAR or acpidump -b gives it)");
            }
            if (b.length < 4 || !hasSignature(b)) {
                throw fatal(0, "header", "signature " + signature() + ": expected \"DMAR\"");
            }
            if (b.length < HEADER_LENGTH) {
                throw fatal(0, "header", "truncated: the file has " + b.length
                        + " bytes: expected at least the 36-byte ACPI header");
            }
            long length = u32(4);
            if (length < STRUCTURES_OFFSET) {
                throw fatal(4, "header", String.format("length field 0x%x (%d bytes) at offset 0x4: expected at least"
                        + " 0x30 (the ACPI header and the DMAR fields before the first structure)", length, length));
            }
            if (length > b.length) {
                throw fatal(4, "header", String.format("length field at offset 0x4 says 0x%x bytes but the file has"
                        + " 0x%x: expected the whole table (truncated file?)", length, b.length));
            }
            int n = (int) length;
            int sum = 0;
            for (int i = 0; i < n; i++) {
                sum += b[i] & 0xFF;
            }
            if ((sum & 0xFF) != 0) {
                int expected = (u8(9) - sum) & 0xFF;
                throw fatal(9, "header", String.format("checksum 0x%02x at offset 0x9 makes the %d bytes sum to 0x%02x"
                        + " mod 256: expected 0 (checksum 0x%02x)", u8(9), n, sum & 0xFF, expected));
            }
            if (b.length > n) {
                warnings.add(String.format("%s: header: the file has %d bytes after the table's length 0x%x:"
                        + " ignored", source, b.length - n, n));
            }
            int width = u8(36);
            if (width + 1 < 12) {
                throw fatal(36, "header", String.format("host address width field 0x%02x (%d bits) at offset 0x24:"
                        + " expected at least 0x0b (12 bits; the field holds the width minus one)", width, width + 1));
            }
            List<Structure> structures = new ArrayList<>();
            int offset = STRUCTURES_OFFSET;
            while (offset < n) {
                if (n - offset < 4) {
                    throw fatal(offset, String.format("structure at offset 0x%x", offset), String.format(
                            "%d bytes left before the table's end 0x%x: expected a 4-byte type and length header",
                            n - offset, n));
                }
                int type = u16(offset);
                int slen = u16(offset + 2);
                int index = type <= DmarTable.TYPE_SATC ? counts[type]++ : unknownCount++;
                String where = DmarTable.describe(type, index, offset);
                if (slen < 4) {
                    throw fatal(offset + 2, where, String.format("length %d at offset 0x%x: expected at least 4"
                            + " (the type and length fields); the structures after it cannot be found", slen,
                            offset + 2));
                }
                if ((long) offset + slen > n) {
                    throw fatal(offset + 2, where, String.format("length 0x%x runs to offset 0x%x, past the table's"
                            + " end 0x%x: expected each structure to end within the table", slen, offset + slen, n));
                }
                try {
                    structures.add(structure(type, index, offset, slen, where));
                } catch (StructureProblem e) {
                    warnings.add(source + ": " + where + ": " + e.getMessage() + "; the " + DmarTable.typeName(type)
                            + " is skipped");
                }
                offset += slen;
            }
            return new DmarTable(source, n, u8(8), ascii(10, 6), ascii(16, 8), u32(24), ascii(28, 4), u32(32),
                    width + 1, u8(37), structures, warnings);
        }

        private Structure structure(int type, int index, int offset, int length, String where)
                throws StructureProblem {
            switch (type) {
                case DmarTable.TYPE_DRHD -> {
                    minimum(length, DRHD_FIXED, "flags, size, segment and register base");
                    long base = u64(offset + 8);
                    if (base == 0 || (base & 0xFFF) != 0) {
                        throw new StructureProblem(String.format("register base 0x%x at offset 0x%x: expected a"
                                + " nonzero 4 KiB-aligned address", base, offset + 8));
                    }
                    return new Drhd(index, offset, length, u8(offset + 4), u8(offset + 5), u16(offset + 6), base,
                            scopes(offset + DRHD_FIXED, offset + length, where));
                }
                case DmarTable.TYPE_RMRR -> {
                    minimum(length, RMRR_FIXED, "segment, base and limit");
                    return new Rmrr(index, offset, length, u16(offset + 6), u64(offset + 8), u64(offset + 16),
                            scopes(offset + RMRR_FIXED, offset + length, where));
                }
                case DmarTable.TYPE_ATSR -> {
                    minimum(length, ATSR_FIXED, "flags and segment");
                    return new Atsr(index, offset, length, u8(offset + 4), u16(offset + 6),
                            scopes(offset + ATSR_FIXED, offset + length, where));
                }
                case DmarTable.TYPE_RHSA -> {
                    minimum(length, RHSA_LENGTH, "register base and proximity domain");
                    return new Rhsa(index, offset, length, u64(offset + 8), u32(offset + 16));
                }
                case DmarTable.TYPE_ANDD -> {
                    minimum(length, ANDD_FIXED + 1, "device number and a name of at least one character");
                    int end = offset + ANDD_FIXED;
                    while (end < offset + length && b[end] != 0) {
                        end++;
                    }
                    String name = new String(b, offset + ANDD_FIXED, end - offset - ANDD_FIXED,
                            StandardCharsets.US_ASCII);
                    if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
                        throw new StructureProblem(String.format("object name at offset 0x%x is \"%s\": expected"
                                + " a printable ACPI path such as \\_SB.PCI0.I2C0", offset + ANDD_FIXED,
                                escaped(name)));
                    }
                    return new Andd(index, offset, length, u8(offset + 7), name);
                }
                case DmarTable.TYPE_SATC -> {
                    minimum(length, SATC_FIXED, "flags and segment");
                    return new Satc(index, offset, length, u8(offset + 4), u16(offset + 6),
                            scopes(offset + SATC_FIXED, offset + length, where));
                }
                default -> {
                    warnings.add(String.format("%s: %s: length 0x%x: not a type this parser knows (0..5: DRHD, RMRR,"
                            + " ATSR, RHSA, ANDD, SATC)%s; skipped by its length", source, where, length,
                            type == 6 ? ", a SIDP of later VT-d specifications" : ""));
                    return new Unknown(index, offset, type, length);
                }
            }
        }

        private static void minimum(int length, int minimum, String what) throws StructureProblem {
            if (length < minimum) {
                throw new StructureProblem(String.format("length %d: expected at least %d (the %s)", length,
                        minimum, what));
            }
        }

        /** The device scopes from {@code start} to {@code end}, all of them well-formed or a problem. */
        private List<Scope> scopes(int start, int end, String where) throws StructureProblem {
            List<Scope> scopes = new ArrayList<>();
            int pos = start;
            while (pos < end) {
                if (end - pos < 2) {
                    throw new StructureProblem(String.format("device scope at offset 0x%x: %d byte left before the"
                            + " structure's end 0x%x: expected a scope of at least 8 bytes", pos, end - pos, end));
                }
                int type = u8(pos);
                int length = u8(pos + 1);
                if (length < SCOPE_HEADER + 2) {
                    throw new StructureProblem(String.format("device scope at offset 0x%x has length %d: expected"
                            + " at least 8 (a 6-byte header and one (device, function) pair)", pos, length));
                }
                if (pos + length > end) {
                    throw new StructureProblem(String.format("device scope at offset 0x%x has length %d, running to"
                            + " 0x%x past the structure's end 0x%x: expected it inside its structure", pos, length,
                            pos + length, end));
                }
                if ((length - SCOPE_HEADER) % 2 != 0) {
                    throw new StructureProblem(String.format("device scope at offset 0x%x has length %d: expected"
                            + " 6 plus an even number of bytes ((device, function) pairs)", pos, length));
                }
                List<Hop> path = new ArrayList<>();
                for (int p = pos + SCOPE_HEADER; p < pos + length; p += 2) {
                    int device = u8(p);
                    int function = u8(p + 1);
                    if (device > 0x1F || function > 7) {
                        throw new StructureProblem(String.format("device scope at offset 0x%x: path entry (%02x,%02x)"
                                + " at offset 0x%x: expected a device 00..1f and a function 0..7", pos, device,
                                function, p));
                    }
                    path.add(new Hop(device, function));
                }
                Scope scope = new Scope(pos, type, length, u8(pos + 2), u8(pos + 4), u8(pos + 5), path);
                if (type < Scope.ENDPOINT || type > Scope.NAMESPACE) {
                    warnings.add(String.format("%s: %s: device scope at offset 0x%x has type %d: expected 1..5"
                            + " (endpoint, bridge, IOAPIC, HPET, ACPI namespace device); the scope is skipped",
                            source, where, pos, type));
                } else {
                    scopes.add(scope);
                }
                pos += length;
            }
            return scopes;
        }

        private DmarFormatException fatal(int offset, String where, String detail) {
            return new DmarFormatException(source, offset, where, detail);
        }

        private String signature() {
            StringBuilder sb = new StringBuilder("\"");
            for (int i = 0; i < Math.min(4, b.length); i++) {
                int c = b[i] & 0xFF;
                sb.append(c >= 0x20 && c < 0x7F ? Character.toString(c) : String.format("\\x%02x", c));
            }
            return sb.append('"').append(b.length < 4 ? " (" + b.length + " bytes)" : "").toString();
        }

        /** The text with every character outside printable ASCII written {@code \\xNN}: messages stay one line. */
        private static String escaped(String text) {
            StringBuilder sb = new StringBuilder();
            text.chars().forEach(c -> sb.append(c >= 0x20 && c < 0x7F ? Character.toString(c)
                    : String.format("\\x%02x", c)));
            return sb.toString();
        }

        private String ascii(int offset, int length) {
            StringBuilder sb = new StringBuilder();
            for (int i = offset; i < offset + length; i++) {
                int c = b[i] & 0xFF;
                sb.append(c >= 0x20 && c < 0x7F ? (char) c : '?');
            }
            return sb.toString();
        }

        private int u8(int offset) {
            return b[offset] & 0xFF;
        }

        private int u16(int offset) {
            return u8(offset) | u8(offset + 1) << 8;
        }

        private long u32(int offset) {
            return (u16(offset) | (long) u16(offset + 2) << 16) & 0xFFFF_FFFFL;
        }

        private long u64(int offset) {
            return u32(offset) | u32(offset + 4) << 32;
        }
    }
}
