package iommu.core.recovery;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * How the journal reaches its files: every write, force, truncation and
 * rename goes through a channel or the move this hands out, so a test can
 * fail any one of them (a full disk) where the file system cannot be made
 * to. {@link #FILES} is the real file system.
 */
public interface Storage {

    /** The file system itself. */
    Storage FILES = FileChannel::open;

    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** Renames {@code from} over {@code to}, atomically where the file system can. */
    default void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
