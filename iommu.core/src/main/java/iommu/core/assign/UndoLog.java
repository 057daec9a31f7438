package iommu.core.assign;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Steps to take back, newest first, when an operation fails midway: what an
 * operation did is undone so that a failed call changes nothing.
 */
public final class UndoLog {

    public interface Step {
        void run() throws Exception;
    }

    private final Deque<Step> steps = new ArrayDeque<>();

    public void push(Step step) {
        steps.push(step);
    }

    /** Runs every step, newest first; a failing step is added to {@code failure} and the rest still run. */
    public void rollBack(Throwable failure) {
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (Exception | Error e) {
                failure.addSuppressed(e);
            }
        }
    }
}
