package iommu.core.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.core.assign.Attachment;
import iommu.vtd.FaultyFiles;

/**
 * The journal's own write points failed one at a time (open box): a failed
 * append is cut back to the last good record so no torn line ever sits
 * before a later one, a cut that fails too stops the journal rather than
 * write after a torn record, a failed map is taken back, a failed snapshot
 * leaves the journal that was there, and the snapshot's rename is followed
 * by forcing the directory.
 */
class JournalFaultsTest {

    @TempDir
    Path dir;

    static final Attachment ONE = new Attachment(PciAddress.parse("0000:18:10.0"), GuestId.guest(1), "dmar0",
            DomainId.of(1));
    static final Attachment TWO = new Attachment(PciAddress.parse("0000:18:10.1"), GuestId.guest(2), "dmar0",
            DomainId.of(2));
    static final Attachment THREE = new Attachment(PciAddress.parse("0000:18:10.2"), GuestId.guest(3), "dmar0",
            DomainId.of(3));

    static Storage through(FaultyFiles files) {
        return new Storage() {
            @Override
            public FileChannel open(Path file, OpenOption... options) throws IOException {
                return files.open(file, options);
            }

            @Override
            public void move(Path from, Path to) throws IOException {
                files.point("rename " + from.getFileName());
                Storage.super.move(from, to);
            }
        };
    }

    /** The snapshot is write 1, its force 2, its rename 3, the directory's force 4; appends follow. */
    Journal journal(FaultyFiles files) {
        return Journal.rewrite(dir, Map.of(), Map.of(), true, through(files));
    }

    @Test
    void theSnapshotIsForcedRenamedAndItsDirectoryForced() {
        FaultyFiles files = new FaultyFiles(0, FaultyFiles.Mode.FULL);
        journal(files).append(List.of(Journal.attach(ONE)));
        assertThat(files.log()).containsExactly("write journal.new", "force journal.new", "rename journal.new",
                "force " + dir.getFileName(), "write journal", "force journal");
    }

    @Test
    void aFailedAppendIsCutBackAndTheNextRecordFollowsTheLastGoodOne() {
        FaultyFiles files = new FaultyFiles(7, FaultyFiles.Mode.ONCE); // the second append's write, half written
        Journal j = journal(files);
        j.append(List.of(Journal.attach(ONE)));
        assertThatThrownBy(() -> j.append(List.of(Journal.attach(TWO)))).isInstanceOf(IommuException.class)
                .hasMessage("state directory " + dir + ": no space left on its file system for the journal: the"
                        + " operation is not done; what was acknowledged before is kept");
        j.append(List.of(Journal.attach(THREE)));
        j.close();
        assertThat(Journal.read(dir).attachments).containsOnlyKeys(ONE.device(), THREE.device());
    }

    @Test
    void aFailedForceIsCutBackToo() {
        Journal j = journal(new FaultyFiles(6, FaultyFiles.Mode.ONCE)); // the first append's force
        assertThatThrownBy(() -> j.append(List.of(Journal.attach(ONE)))).hasMessageContaining("no space left");
        j.close();
        assertThat(Journal.read(dir).attachments).isEmpty();
    }

    @Test
    void aCutThatFailsTooStopsTheJournalRatherThanWriteAfterATornRecord() {
        Journal j = journal(new FaultyFiles(7, FaultyFiles.Mode.STUCK)); // the second write fails, then the cut
        j.append(List.of(Journal.attach(ONE)));
        assertThatThrownBy(() -> j.append(List.of(Journal.attach(TWO)))).hasMessageContaining("no space left");
        assertThatThrownBy(() -> j.append(List.of(Journal.attach(THREE)))).hasMessage("state directory " + dir
                + ": the journal could not be cut back to its last record after a failed write (No space left on"
                + " device, then No space left on device): nothing more is recorded; start again on the directory"
                + " once it is writable");
        j.close();
        // the torn record is the last one: dropped, as a crash's would be
        assertThat(Journal.read(dir).attachments).containsOnlyKeys(ONE.device());
    }

    @Test
    void aMapThatFailedIsTakenBackNotUndoneSoItNeedsNoSpace() throws IOException {
        Journal j = journal(new FaultyFiles(7, FaultyFiles.Mode.FULL)); // full after the map's record
        j.append(List.of(Journal.map(GuestId.guest(1), 0x10000, 0x7f000000, 4)));
        assertThat(j.takeBackLastAppend()).isTrue();
        assertThat(j.takeBackLastAppend()).as("once").isFalse();
        j.close();
        assertThat(Journal.read(dir).mappings).isEmpty();
        assertThat(Files.readString(dir.resolve(Journal.FILE))).isEqualTo(Journal.HEADER + "\n");
    }

    @Test
    void aFailedSnapshotLeavesTheJournalThatWasThere() throws IOException {
        Journal.rewrite(dir, Map.of(ONE.device(), ONE), Map.of()).close();
        byte[] before = Files.readAllBytes(dir.resolve(Journal.FILE));
        for (int k = 1; k <= 3; k++) { // its write, its force, its rename
            int point = k;
            assertThatThrownBy(() -> journal(new FaultyFiles(point, FaultyFiles.Mode.FULL)))
                    .hasMessage("state directory " + dir + ": no space left on its file system for a snapshot of the"
                            + " journal: the directory is not taken up; its journal is as it was");
            assertThat(Files.readAllBytes(dir.resolve(Journal.FILE))).isEqualTo(before);
            assertThat(dir.resolve(Journal.FILE + ".new")).doesNotExist();
        }
    }
}
