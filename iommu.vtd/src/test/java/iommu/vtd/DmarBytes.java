package iommu.vtd;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * The iasl-compiled DMAR binaries of {@code src/test/resources/dmar} and the
 * byte surgery the malformed variants are made with.
 */
final class DmarBytes {

    /** Where the .dsl sources and their binaries are, from the module directory. */
    static final Path DMAR_SOURCES = Paths.get("src/test/resources/dmar");
    /** The real tables: the shared data folder beside the repository root. */
    static final Path REAL_TABLES = Paths.get("../../shared/data/dmar-real");

    private DmarBytes() {
    }

    /** A binary of {@code src/test/resources/dmar}, e.g. {@code server-two-segments.dat}. */
    static byte[] resource(String name) {
        try (InputStream in = DmarBytes.class.getResourceAsStream("/dmar/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource dmar/" + name + " missing");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int u8(byte[] b, int offset) {
        return b[offset] & 0xFF;
    }

    static int u16(byte[] b, int offset) {
        return u8(b, offset) | u8(b, offset + 1) << 8;
    }

    /** A copy with little-endian {@code value} of {@code width} bytes written at {@code offset}, checksum fixed. */
    static byte[] with(byte[] table, int offset, int width, long value) {
        byte[] b = Arrays.copyOf(table, table.length);
        for (int i = 0; i < width; i++) {
            b[offset + i] = (byte) (value >>> (8 * i));
        }
        return checksummed(b);
    }

    /** A copy with its first {@code length} bytes. */
    static byte[] truncated(byte[] table, int length) {
        return Arrays.copyOf(table, length);
    }

    /** A copy with {@code structure} appended, length field and checksum fixed. */
    static byte[] appended(byte[] table, byte... structure) {
        byte[] b = Arrays.copyOf(table, table.length + structure.length);
        System.arraycopy(structure, 0, b, table.length, structure.length);
        b[4] = (byte) b.length;
        b[5] = (byte) (b.length >>> 8);
        b[6] = 0;
        b[7] = 0;
        return checksummed(b);
    }

    /** A copy whose checksum byte (offset 9) makes the table's length field bytes sum to 0. */
    static byte[] checksummed(byte[] table) {
        byte[] b = Arrays.copyOf(table, table.length);
        int length = (int) Math.min(b.length, u16(b, 4) | (long) u16(b, 6) << 16);
        b[9] = 0;
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += b[i] & 0xFF;
        }
        b[9] = (byte) -sum;
        return b;
    }

    /** Bytes from ints, for hand-made structures. */
    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
