package iommu.console;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.EOFError;
import org.apache.felix.gogo.runtime.Parser;
import org.apache.felix.gogo.runtime.SyntaxError;
import org.apache.felix.gogo.runtime.Token;

/**
 * Splits what the launcher is asked to run into single commands, so that each
 * result is printed and the run stops at the first failing one.
 *
 * <p>Statements are found by Gogo's own parser, so {@code ;} inside quotes or
 * closures ({@code each [1 2] { echo $it; echo x }}) does not split.
 */
final class Script {

    /** One command and where it came from. */
    record Command(String text, String source, int line) {
        /** The location prefix for error messages: {@code file:line: }, or empty for {@code -c}. */
        String where() {
            return source == null ? "" : source + ":" + line + ": ";
        }
    }

    private Script() {
    }

    /** The commands of a {@code -c} argument: statements separated by {@code ;} or newlines. */
    static List<Command> ofCommandLine(String text) {
        List<Command> out = new ArrayList<>();
        for (String s : statements(text)) {
            out.add(new Command(s, null, 0));
        }
        return out;
    }

    /**
     * The commands of a script file or of standard input: one command per
     * line (a line may hold several separated by {@code ;}); blank lines and
     * lines starting with {@code #} are skipped.
     */
    static List<Command> ofLines(List<String> lines, String source) {
        List<Command> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            out.addAll(ofLine(lines.get(i), source, i + 1));
        }
        return out;
    }

    /** The commands of line {@code lineNo} (1-based) of a script: none for a blank or comment line. */
    static List<Command> ofLine(String text, String source, int lineNo) {
        List<Command> out = new ArrayList<>();
        String line = text.strip();
        if (line.isEmpty() || line.startsWith("#")) {
            return out;
        }
        for (String s : statements(line, source, lineNo)) {
            out.add(new Command(s, source, lineNo));
        }
        return out;
    }

    static List<String> statements(String text) {
        return statements(text, null, 0);
    }

    private static List<String> statements(String text, String source, int line) {
        List<String> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        List<? extends Token> tokens;
        try {
            tokens = new Parser(text).program().tokens();
        } catch (EOFError e) {
            throw new IllegalArgumentException(prefix(source, line) + "incomplete command '" + text.strip()
                    + "': " + e.getMessage() + " (expected " + e.missing() + ")");
        } catch (SyntaxError e) {
            throw new IllegalArgumentException(prefix(source, line) + "malformed command '" + text.strip()
                    + "': " + e.getMessage());
        }
        for (Token t : tokens) {
            String s = t.toString().strip();
            // the program's tokens include its separators
            if (!s.isEmpty() && !s.matches("[;&\\s]+")) {
                out.add(s);
            }
        }
        return out;
    }

    private static String prefix(String source, int line) {
        return source == null ? "" : source + ":" + line + ": ";
    }
}
