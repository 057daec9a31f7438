package iommu.api.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class WriteFailureTest {

    @Test
    void aFullFileSystemIsToldAsNoSpaceLeftAnythingElseWithItsReason() {
        Path dir = Path.of("/var/lib/iommu");
        assertThat(WriteFailure.of(dir, "the journal", "the operation is not done",
                new IOException("No space left on device"))).hasMessage(
                        "state directory /var/lib/iommu: no space left on its file system for the journal: the"
                                + " operation is not done");
        assertThat(WriteFailure.noSpace(new IOException("Disk quota exceeded"))).isTrue();
        assertThat(WriteFailure.of(dir, "the journal", "the operation is not done",
                new IOException("Input/output error"))).hasMessage("state directory /var/lib/iommu: cannot write the"
                        + " journal (Input/output error): the operation is not done");
    }
}
