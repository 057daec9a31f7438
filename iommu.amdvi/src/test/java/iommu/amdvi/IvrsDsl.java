package iommu.amdvi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiler for the subset of iasl's data-table language the project's IVRS
 * sources use: lines {@code [NNNN] Field Name : value} (NNNN the field's byte
 * count in decimal; the value a hexadecimal number stored little-endian, or a
 * quoted string zero-padded to the field), block comments. As iasl does, it
 * computes the {@code Table Length}, the {@code Checksum}, and the
 * {@code Length} of every block (from its {@code Subtable Type} line to the
 * next one).
 *
 * <p>It exists because the iasl of Debian 12 (20200925) does not know IVHD
 * type 40h nor ACPI HID device entries (F0h); on the sources iasl does compile
 * it produces the same bytes ({@code IvrsDslTest}). Runs as a single-file
 * program: {@code java IvrsDsl.java IN.dsl OUT.aml}.
 */
public final class IvrsDsl {

    private static final Pattern FIELD = Pattern.compile("^\\[(\\d{4})\\]\\s+([^:]+?)\\s*:\\s*(.*)$");

    private IvrsDsl() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java IvrsDsl.java IN.dsl OUT.aml");
            System.exit(2);
        }
        Files.write(Path.of(args[1]), compile(Files.readString(Path.of(args[0]))));
    }

    /** Compiles the source; throws IllegalArgumentException naming the line. */
    public static byte[] compile(String source) {
        String text = Pattern.compile("(?s)/\\*.*?\\*/").matcher(source)
                .replaceAll(m -> m.group().replaceAll("[^\\n]", ""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int tableLengthAt = -1;
        int checksumAt = -1;
        List<int[]> blocks = new ArrayList<>(); // {start, lengthFieldOffset, lengthFieldSize}
        int lineNumber = 0;
        for (String line : text.split("\n", -1)) {
            lineNumber++;
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            Matcher m = FIELD.matcher(l);
            if (!m.matches()) {
                throw new IllegalArgumentException("line " + lineNumber + ": '" + l
                        + "': expected [NNNN] Field : value");
            }
            int size = Integer.parseInt(m.group(1));
            String name = m.group(2);
            String value = m.group(3).strip();
            int at = out.size();
            if (name.equals("Subtable Type")) {
                blocks.add(new int[] {at, -1, 0});
            } else if (name.equals("Length") && !blocks.isEmpty() && blocks.get(blocks.size() - 1)[1] < 0) {
                blocks.get(blocks.size() - 1)[1] = at;
                blocks.get(blocks.size() - 1)[2] = size;
            } else if (name.equals("Table Length")) {
                tableLengthAt = at;
            } else if (name.equals("Checksum")) {
                checksumAt = at;
            }
            out.writeBytes(field(size, value, lineNumber));
        }
        byte[] b = out.toByteArray();
        for (int i = 0; i < blocks.size(); i++) {
            int[] block = blocks.get(i);
            int end = i + 1 < blocks.size() ? blocks.get(i + 1)[0] : b.length;
            if (block[1] >= 0) {
                put(b, block[1], block[2], end - block[0]);
            }
        }
        if (tableLengthAt >= 0) {
            put(b, tableLengthAt, 4, b.length);
        }
        if (checksumAt >= 0) {
            b[checksumAt] = 0;
            int sum = 0;
            for (byte x : b) {
                sum += x;
            }
            b[checksumAt] = (byte) -sum;
        }
        return b;
    }

    private static byte[] field(int size, String value, int lineNumber) {
        byte[] f = new byte[size];
        if (value.startsWith("\"")) {
            int close = value.indexOf('"', 1);
            if (close < 0) {
                throw new IllegalArgumentException("line " + lineNumber + ": unterminated string " + value);
            }
            byte[] s = value.substring(1, close).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(s, 0, f, 0, Math.min(size, s.length));
            return f;
        }
        String token = value.split("\\s+")[0];
        if (size > 8 || !token.matches("[0-9A-Fa-f]{1,16}")) {
            throw new IllegalArgumentException("line " + lineNumber + ": value '" + token + "' for a " + size
                    + "-byte field: expected up to 16 hexadecimal digits and at most 8 bytes");
        }
        long v = Long.parseUnsignedLong(token, 16);
        if (size < 8 && v >>> (8 * size) != 0) {
            throw new IllegalArgumentException("line " + lineNumber + ": value 0x" + token + " does not fit "
                    + size + " bytes");
        }
        put(f, 0, size, v);
        return f;
    }

    private static void put(byte[] b, int at, int size, long v) {
        for (int i = 0; i < size; i++) {
            b[at + i] = (byte) (v >>> (8 * i));
        }
    }
}
