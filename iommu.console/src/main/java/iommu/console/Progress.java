package iommu.console;

import java.io.PrintStream;

/**
 * Progress of an operation that may take more than a second, on standard
 * error so that standard output stays clean for scripts. Nothing is printed
 * when the operation ends within the first second; after that, one line when
 * the status changes and every few seconds while it does not.
 */
final class Progress implements AutoCloseable {

    static final long QUIET_MILLIS = 1000;
    static final long REPEAT_MILLIS = 3000;

    private final PrintStream err;
    private final String label;
    private final long quietMillis;
    private final long start = System.nanoTime();
    private final Thread ticker;
    private final java.util.function.Supplier<String> poll;
    private volatile String status = "";
    private volatile boolean done;
    private boolean printed;

    private Progress(PrintStream err, String label, long quietMillis, java.util.function.Supplier<String> poll) {
        this.err = err;
        this.poll = poll;
        this.label = label;
        this.quietMillis = quietMillis;
        this.ticker = new Thread(this::tick, "iommu.console progress");
        this.ticker.setDaemon(true);
    }

    static Progress start(PrintStream err, String label) {
        return start(err, label, QUIET_MILLIS, null);
    }

    /** @param poll asked for the status at each tick (e.g. how many units appeared so far); may be null */
    static Progress start(PrintStream err, String label, java.util.function.Supplier<String> poll) {
        return start(err, label, QUIET_MILLIS, poll);
    }

    static Progress start(PrintStream err, String label, long quietMillis, java.util.function.Supplier<String> poll) {
        Progress p = new Progress(err, label, quietMillis, poll);
        p.ticker.start();
        return p;
    }

    /** What the operation is doing now, e.g. a line of the core's log. */
    void status(String text) {
        status = text == null ? "" : CoreText.oneLine(text);
        synchronized (this) {
            notifyAll();
        }
    }

    /** Whether a progress line was printed. */
    synchronized boolean printed() {
        return printed;
    }

    private void tick() {
        String shown = null;
        long lastPrint = 0;
        try {
            synchronized (this) {
                while (!done) {
                    long elapsed = millis();
                    if (elapsed < quietMillis) {
                        wait(Math.max(1, quietMillis - elapsed));
                        continue;
                    }
                    if (poll != null) {
                        try {
                            String polled = poll.get();
                            if (polled != null) {
                                status = CoreText.oneLine(polled);
                            }
                        } catch (RuntimeException e) {
                            // a status is a nicety: never fail the operation for it
                        }
                    }
                    String now = status;
                    if (!now.equals(shown) || elapsed - lastPrint >= REPEAT_MILLIS) {
                        err.println(label + (now.isEmpty() ? "" : ": " + now) + " (" + (elapsed / 1000) + " s)");
                        err.flush();
                        printed = true;
                        shown = now;
                        lastPrint = elapsed;
                    }
                    wait(500);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private long millis() {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Override
    public void close() {
        synchronized (this) {
            done = true;
            notifyAll();
        }
        try {
            ticker.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (printed) {
                err.println(label + ": done in " + String.format("%.1f s", millis() / 1000.0));
                err.flush();
            }
        }
    }

    /** Standard error of the running command (Gogo redirects it per command), else the process's. */
    static PrintStream stderr() {
        try {
            org.apache.felix.service.command.Process p = org.apache.felix.service.command.Process.Utils.current();
            if (p != null) {
                return p.err();
            }
        } catch (RuntimeException | LinkageError e) {
            // not inside a Gogo command
        }
        return System.err;
    }
}
