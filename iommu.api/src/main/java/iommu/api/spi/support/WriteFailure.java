package iommu.api.spi.support;

import java.io.IOException;
import java.nio.file.Path;

import iommu.api.IommuException;

/**
 * How a failed write to a state directory is told, by the core (its journal)
 * and a vendor (its units' table files) alike: one line naming the directory,
 * saying "no space left" when the file system is full (or the quota spent),
 * what could not be written and what that means for the operation.
 */
public final class WriteFailure {

    private WriteFailure() {
    }

    /** Whether the write failed for want of space (ENOSPC, EDQUOT), as the JDK reports them. */
    public static boolean noSpace(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param writing what could not be written, e.g. "the journal"
     * @param consequence what it means, e.g. "the operation is not done"
     */
    public static IommuException of(Path directory, String writing, String consequence, IOException e) {
        String why = noSpace(e) ? ": no space left on its file system for " + writing
                : ": cannot write " + writing + " (" + e.getMessage() + ")";
        return new IommuException("state directory " + directory + why + ": " + consequence, e);
    }
}
