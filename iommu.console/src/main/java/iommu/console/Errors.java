package iommu.console;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one error style of the console, in the interactive shell and in
 * non-interactive runs alike: one line saying what was wrong and what was
 * expected, never a stack trace (the launcher's {@code --debug} shows them).
 *
 * <p>Gogo's own refusals are reworded: a command called with the wrong
 * arguments names its usage, an unknown command points at {@code help}.
 */
final class Errors {

    private static final Pattern COERCE = Pattern.compile("Cannot coerce ([\\w.-]+)\\((.*)\\) to any of (.*)");
    private static final Pattern NOT_FOUND = Pattern.compile("Command not found: (\\S+)");

    private Errors() {
    }

    /** The one line to print for a failure. */
    static String message(Throwable e) {
        return message(e, CommandList.USAGE);
    }

    static String message(Throwable e, Map<String, String> usage) {
        Throwable t = e;
        while ((t instanceof InvocationTargetException || t instanceof UndeclaredThrowableException
                || t.getMessage() == null) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        if (msg == null || msg.isBlank()) {
            return t.getClass().getSimpleName() + " (run with --debug for the stack trace)";
        }
        msg = CoreText.oneLine(msg);
        Matcher m = COERCE.matcher(msg);
        if (m.matches()) {
            String name = m.group(1);
            String args = m.group(2).trim();
            int given = args.isEmpty() ? 0 : args.split(",").length;
            String what = given == 0 ? "no argument given" : given == 1 ? "1 argument given" : given + " arguments given";
            String expected = usage.get(name);
            if (expected != null) {
                return name + ": " + what + ": expected '" + expected + "' (see 'help " + name + "')";
            }
            return name + ": " + what + ": expected arguments of the types " + m.group(3) + " (see 'help " + name + "')";
        }
        Matcher nf = NOT_FOUND.matcher(msg);
        if (nf.matches()) {
            return "unknown command '" + nf.group(1) + "': expected a command that 'help' lists";
        }
        return msg;
    }
}
