package iommu.api;

/**
 * Echoes user input inside an error message safely, so that every error stays
 * one line whatever was typed or read: quoted, control characters escaped,
 * long input cut. For every bundle that reports bad input (DESIGN section 9).
 */
public final class Quoted {

    /** How much of the input {@link #of(String)} shows. */
    public static final int DEFAULT_LIMIT = 64;

    private Quoted() {
    }

    /** The text between single quotes, as it may appear in a one-line message; at most 64 characters shown. */
    public static String of(String text) {
        return of(text, DEFAULT_LIMIT);
    }

    /**
     * The text between single quotes, as it may appear in a one-line message,
     * cut to at most {@code limit} characters as shown (an escape counts with
     * its length, so hostile input cannot make the line longer; a character
     * outside the Basic Multilingual Plane is not cut in two). Escaped as
     * {@code \n}, {@code \r}, {@code \t} or {@code \}{@code uXXXX}: control
     * characters, line and paragraph separators, the bidirectional controls
     * that would reorder the rest of the line on a terminal (U+061C, U+200E,
     * U+200F, U+202A..U+202E, U+2066..U+2069), and a surrogate without its pair.
     *
     * @param limit how many characters of the text to show at most, e.g. more
     *        than {@link #DEFAULT_LIMIT} for a file path
     */
    public static String of(String text, int limit) {
        if (text == null) {
            return "null";
        }
        StringBuilder shown = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            String piece;
            if (pair) {
                piece = text.substring(i, i + 2);
            } else {
                piece = switch (c) {
                    case '\n' -> "\\n";
                    case '\r' -> "\\r";
                    case '\t' -> "\\t";
                    default -> mustEscape(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
                };
            }
            if (shown.length() + piece.length() > limit) {
                break;
            }
            shown.append(piece);
            i += pair ? 2 : 1;
        }
        return "'" + shown + (i < text.length() ? "..." : "") + "'";
    }

    private static boolean mustEscape(char c) {
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                || Character.isSurrogate(c) // here only without its pair
                || c == '\u061c' || c == '\u200e' || c == '\u200f' || (c >= '\u202a' && c <= '\u202e')
                || (c >= '\u2066' && c <= '\u2069');
    }
}
