package iommu.api;

/**
 * Echoes user input inside an error message safely, so that every error stays
 * one line whatever was typed or read: quoted, control characters escaped,
 * long input cut. For every bundle that reports bad input (DESIGN section 9).
 */
public final class Quoted {

    private Quoted() {
    }

    /** The text between single quotes, as it may appear in a one-line message. */
    public static String of(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("'");
        int shown = Math.min(text.length(), 64);
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || Character.getType(c) == Character.LINE_SEPARATOR
                            || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        if (text.length() > shown) {
            sb.append("...");
        }
        return sb.append('\'').toString();
    }
}
