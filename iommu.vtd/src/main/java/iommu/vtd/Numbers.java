package iommu.vtd;

import java.util.regex.Pattern;

/**
 * The number syntaxes of the platform file and of unit configurations. Every
 * parser throws {@link IllegalArgumentException} with a message that names the
 * field, the offending text and what was expected; callers add the location.
 */
final class Numbers {

    private static final Pattern HEX = Pattern.compile("(?:0[xX])?[0-9a-fA-F]{1,16}");
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,10}");
    private static final Pattern PREFIXED_HEX = Pattern.compile("0[xX][0-9a-fA-F]{1,8}");
    private static final Pattern BUS_RANGE = Pattern.compile("([0-9a-fA-F]{1,2})-([0-9a-fA-F]{1,2})");

    private Numbers() {
    }

    /**
     * A 64-bit register value in hexadecimal, {@code 0x} optional, read as
     * unsigned (CAP values use bit 59 and beyond).
     */
    static long hex64(String field, String text) {
        if (text == null || !HEX.matcher(text.trim()).matches()) {
            throw new IllegalArgumentException("bad " + field + " '" + text
                    + "': expected a hexadecimal number of 1 to 16 digits, 0x optional");
        }
        String digits = text.trim();
        if (digits.startsWith("0x") || digits.startsWith("0X")) {
            digits = digits.substring(2);
        }
        return Long.parseUnsignedLong(digits, 16);
    }

    /** A hexadecimal number (0x optional) in {@code 0..max}. */
    static int hex(String field, String text, int max) {
        long value;
        try {
            value = hex64(field, text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad " + field + " '" + text
                    + "': expected a hexadecimal number 0.." + Integer.toHexString(max));
        }
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(field + " 0x" + Long.toHexString(value)
                    + " out of range: expected 0..0x" + Integer.toHexString(max));
        }
        return (int) value;
    }

    /** A number in {@code min..max}: decimal, or hexadecimal with a {@code 0x} prefix. */
    static int number(String field, String text, int min, int max) {
        String t = text == null ? "" : text.trim();
        long value;
        if (DECIMAL.matcher(t).matches()) {
            value = Long.parseLong(t);
        } else if (PREFIXED_HEX.matcher(t).matches()) {
            value = Long.parseLong(t.substring(2), 16);
        } else {
            throw new IllegalArgumentException("bad " + field + " '" + text
                    + "': expected a decimal number (or 0x-prefixed hexadecimal) " + min + ".." + max);
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " " + value + " out of range: expected " + min + ".." + max);
        }
        return (int) value;
    }

    /** A bus range {@code SS-EE} in hexadecimal, e.g. {@code 18-19}; returns {secondary, subordinate}. */
    static int[] busRange(String field, String text) {
        var m = BUS_RANGE.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("bad " + field + " '" + text
                    + "': expected a bus range SS-EE in hexadecimal, e.g. 18-19");
        }
        int secondary = Integer.parseInt(m.group(1), 16);
        int subordinate = Integer.parseInt(m.group(2), 16);
        if (secondary > subordinate) {
            throw new IllegalArgumentException("bad " + field + " '" + text
                    + "': secondary bus after subordinate bus, expected SS <= EE");
        }
        return new int[] {secondary, subordinate};
    }
}
