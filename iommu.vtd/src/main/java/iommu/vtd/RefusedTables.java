package iommu.vtd;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import iommu.api.IommuException;

/**
 * A unit's table file that was refused, set aside for a rebuild (the
 * launcher's {@code --rebuild-tables}): renamed beside itself with the time
 * it was refused, never deleted, so whoever wants to look at what was there
 * still can, and the unit starts on a new file that the platform fills from
 * its journal.
 */
final class RefusedTables {

    static final String SUFFIX = ".refused-";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private RefusedTables() {
    }

    /**
     * Renames the refused file to {@code NAME.refused-TIME} (a free name:
     * {@code -2}, {@code -3}... when taken).
     *
     * @return one line: the refusal and where the file went
     * @throws IommuException when it cannot be renamed; it is then where it was
     */
    static String setAside(Path file, IllegalArgumentException refusal) {
        String stamp = STAMP.format(Instant.now());
        for (int n = 1; ; n++) {
            Path aside = file.resolveSibling(file.getFileName() + SUFFIX + stamp + (n == 1 ? "" : "-" + n));
            try {
                Files.move(file, aside);
                return reason(refusal) + "; set aside as " + aside.getFileName();
            } catch (FileAlreadyExistsException e) {
                // refused twice within a second: the next free name
            } catch (IOException e) {
                throw new IommuException(reason(refusal) + "; it cannot be set aside (" + e + "): expected a writable"
                        + " state directory", e);
            }
        }
    }

    /** The refusal, without the advice to set the file aside that is being followed. */
    private static String reason(IllegalArgumentException refusal) {
        String m = refusal.getMessage();
        return m.endsWith(TableFile.REBUILD_HINT) ? m.substring(0, m.length() - TableFile.REBUILD_HINT.length()) : m;
    }
}
