package iommu.console;

import iommu.api.Quoted;

/**
 * Numbers typed at the console: decimal, or hexadecimal with a {@code 0x}
 * prefix ({@code 4096}, {@code 0x1000}); {@code _} may group digits.
 */
final class Numbers {

    private Numbers() {
    }

    /**
     * Parses a non-negative 63-bit number.
     *
     * @param what what the number is, for the error ("IOVA", "page count")
     * @throws IllegalArgumentException naming the argument and what was expected
     */
    static long parse(String what, String text) {
        return parse(what, text, "0.." + hex(Long.MAX_VALUE));
    }

    /** @param range what the caller accepts, for the error when the number does not fit 63 bits */
    private static long parse(String what, String text, String range) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("missing " + what + ": expected a number, decimal or hexadecimal with 0x, e.g. 0x10000");
        }
        String s = text.trim().replace("_", "");
        boolean hex = s.startsWith("0x") || s.startsWith("0X");
        String digits = hex ? s.substring(2) : s;
        if (digits.isEmpty() || !digits.matches(hex ? "[0-9a-fA-F]+" : "[0-9]+")) {
            throw new IllegalArgumentException("malformed " + what + " " + Quoted.of(text)
                    + ": expected a number, decimal or hexadecimal with 0x, e.g. 0x10000");
        }
        try {
            long v = Long.parseUnsignedLong(digits, hex ? 16 : 10);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " " + Quoted.of(text) + " out of range: expected " + range);
        }
    }

    /** A count of 4 KiB pages: 1 or more. */
    static long pages(String text) {
        long n = parse("page count", text, "1.." + hex(Long.MAX_VALUE) + " 4 KiB pages");
        if (n < 1) {
            throw new IllegalArgumentException("page count " + Quoted.of(text) + " out of range: expected 1 or more 4 KiB pages");
        }
        return n;
    }

    /** A positive int, e.g. a count given as an option. */
    static int positiveInt(String what, String text) {
        long n = parse(what, text, "1.." + Integer.MAX_VALUE);
        if (n < 1 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + Quoted.of(text) + " out of range: expected 1.." + Integer.MAX_VALUE);
        }
        return (int) n;
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
