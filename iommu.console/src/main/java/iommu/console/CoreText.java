package iommu.console;

/** Text helpers for messages that must stay on one line. */
final class CoreText {

    private CoreText() {
    }

    /** The text with line breaks (and the blanks around them) folded into single spaces. */
    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
    }
}
