package iommu.console;

import java.util.List;

import iommu.api.IommuException;

/**
 * A command that fails with a list of what is wrong (as {@code verify} does):
 * the message is the one-line summary, the problems are printed before it on
 * standard output, one a line, by whoever prints the failure (the launcher,
 * the shell), so that a command never prints and then throws.
 */
final class ProblemsException extends IommuException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    ProblemsException(String summary, List<String> problems) {
        super(summary);
        this.problems = problems.stream().map(CoreText::oneLine).toList();
    }

    /** One line per problem. */
    List<String> problems() {
        return problems;
    }

    /** The problem lines a failure carries, unwrapped as {@link Errors#message} unwraps it; empty for others. */
    static List<String> of(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ProblemsException p) {
                return p.problems();
            }
        }
        return List.of();
    }
}
