package iommu.console;

import java.util.function.Consumer;

import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;

/**
 * Listens to one bundle's log entries while an operation runs, to show what
 * it is doing (the core logs the start of a renumbering). A no-op when no log
 * reader is present or the bundle logs below the framework's log level.
 */
final class LogTap implements AutoCloseable {

    private final LogReaderService reader;
    private final LogListener listener;

    private LogTap(LogReaderService reader, LogListener listener) {
        this.reader = reader;
        this.listener = listener;
    }

    static LogTap open(LogReaderService reader, String bundle, Consumer<String> sink) {
        if (reader == null) {
            return new LogTap(null, null);
        }
        LogListener l = (LogEntry entry) -> {
            if (entry.getBundle() != null && bundle.equals(entry.getBundle().getSymbolicName())
                    && entry.getMessage() != null) {
                sink.accept(entry.getMessage());
            }
        };
        try {
            reader.addLogListener(l);
            return new LogTap(reader, l);
        } catch (RuntimeException e) {
            return new LogTap(null, null);
        }
    }

    @Override
    public void close() {
        if (reader != null) {
            try {
                reader.removeLogListener(listener);
            } catch (RuntimeException e) {
                // the log service went away: nothing to remove
            }
        }
    }
}
