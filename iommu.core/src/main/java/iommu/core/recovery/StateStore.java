package iommu.core.recovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.osgi.service.log.Logger;

import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.StateDTO;
import iommu.api.spi.support.StateDirectoryLock;
import iommu.core.assign.Attachment;
import iommu.core.assign.Attachments;
import iommu.core.assign.DeviceQuarantine;
import iommu.core.assign.GuestMappings;
import iommu.core.assign.GuestPages;
import iommu.core.assign.OneLine;
import iommu.core.assign.Recorder;

/**
 * Where state is kept: the journal in the configured state directory (every
 * record forced to disk before the operation is acknowledged), or, while
 * state is ephemeral, a snapshot in the bundle's data area written when the
 * component deactivates and read back by its next activation in the same
 * framework launch. Also what the last recovery and the units' kept tables
 * reported, for {@code state()}. Not thread-safe; called under the component's lock.
 */
public final class StateStore implements Recorder {

    /** At most this many disagreements of units' kept tables are kept for the report. */
    static final int KEPT_PROBLEMS = 1000;

    private final Attachments attachments;
    private final GuestPages pages;
    private final Reconciliation reconciliation;
    private final Logger log;
    /** Where an ephemeral core keeps its state across a restart of its bundle; null outside a framework. */
    private final Path privateDirectory;
    /** The framework's launch id: a snapshot of another launch is not read. */
    private final String frameworkId;
    /** Whom the state directory's lock is shared with (this framework); null outside a framework: no lock. */
    private final String lockOwner;
    private final Storage storage;
    /** Null while state is ephemeral. */
    private Journal journal;
    /** The state directory's lock while it is open (null outside a framework). */
    private StateDirectoryLock lock;
    private String stateDirectory = "";
    private int restored;
    private List<String> recoveryProblems = List.of();
    private final List<String> unitProblems = new ArrayList<>();
    private final List<String> rebuilt = new ArrayList<>();
    /** The unmap record undoing the map just journaled (a failed map takes that back); null after any other. */
    private String lastMapped;

    private DeviceQuarantine quarantined = new DeviceQuarantine(DeviceQuarantine.Mode.NONE);

    /** The devices in quarantine, written in every snapshot of the journal. */
    public void keepQuarantine(DeviceQuarantine devices) {
        this.quarantined = devices;
    }

    /**
     * @param lockOwner whom the state directory's lock is shared with (the framework's launch id), or null
     *        to take no lock (outside a framework: tests start "a new process" on a directory without ending
     *        the old one)
     */
    public StateStore(Attachments attachments, GuestPages pages, Reconciliation reconciliation, Logger log,
            Path privateDirectory, String frameworkId, String lockOwner, Storage storage) {
        this.attachments = attachments;
        this.pages = pages;
        this.reconciliation = reconciliation;
        this.log = log;
        this.privateDirectory = privateDirectory;
        this.frameworkId = frameworkId;
        this.lockOwner = lockOwner;
        this.storage = storage;
    }

    /**
     * Switches to the state directory: it is locked (one writer), its
     * journal is reconciled with the present state, then rewritten as a
     * snapshot of the result. An empty one makes state ephemeral; on
     * activation that reads the snapshot a deactivation of this launch left.
     * Whatever refuses the directory (its lock held elsewhere, a damaged
     * journal, a full disk) leaves it as it was and is the first problem of
     * the report.
     *
     * @param rebuildTables the units' tables are being rebuilt from the journal: a directory without one is
     *        refused
     * @return whether attachments were restored, so the allocator must learn them
     */
    public boolean open(String directory, boolean activating, boolean rebuildTables) {
        String wanted = directory == null ? "" : directory.trim();
        if (wanted.isEmpty()) {
            if (activating || !stateDirectory.isEmpty()) {
                close();
                restored = 0;
                recoveryProblems = List.of();
                if (activating) {
                    return restoreSnapshot();
                }
            }
            return false;
        }
        if (wanted.equals(stateDirectory)) {
            return false;
        }
        StateDirectoryLock taken = null;
        Journal.State loaded;
        try {
            // before anything in it is read: another process may be writing it
            taken = lockOwner == null ? null : StateDirectoryLock.acquire(Path.of(wanted), lockOwner, "iommu.core");
            if (rebuildTables && !Files.exists(Path.of(wanted, Journal.FILE))) {
                throw new IommuException("state directory " + wanted + " has no journal to rebuild the units' tables"
                        + " from: expected a directory a previous run kept its state in");
            }
            loaded = Journal.read(Path.of(wanted));
        } catch (RuntimeException e) {
            if (taken != null) {
                taken.close();
            }
            String why = (rebuildTables ? "the tables are not rebuilt (nothing was set aside): " : "")
                    + OneLine.of(e);
            recoveryProblems = List.of(why);
            log.error("state directory {} not loaded: {}", wanted, why);
            return false;
        }
        close();
        lock = taken;
        stateDirectory = wanted;
        Reconciliation.Result result = reconciliation.reconcile(loaded);
        restored = result.restored();
        recoveryProblems = result.problems();
        recoveryProblems.forEach(p -> log.warn("recovery from {}: {}", wanted, p));
        try {
            journal = Journal.rewrite(Path.of(wanted), attachments.byDevice(), pages.all(), quarantined.devices(), true, storage);
        } catch (RuntimeException e) {
            // what was restored stays, ephemeral: its journal still has it
            close();
            List<String> all = new ArrayList<>(List.of(OneLine.of(e)));
            all.addAll(recoveryProblems);
            recoveryProblems = List.copyOf(all);
            log.error("state directory {} not taken up: {}", wanted, OneLine.of(e));
            return restored > 0;
        }
        log.info("state kept in {}: {} attachments restored, {} disagreements reported", wanted, restored,
                recoveryProblems.size());
        return restored > 0;
    }

    /** Closes the journal and lets the directory go; state is ephemeral until the next {@link #open}. */
    public void close() {
        if (journal != null) {
            journal.close();
            journal = null;
        }
        if (lock != null) {
            lock.close();
            lock = null;
        }
        lastMapped = null;
        stateDirectory = "";
    }

    /** The component deactivates: an ephemeral state is written to the bundle's data area, and the journal closed. */
    public void deactivate() {
        if (stateDirectory.isEmpty()) {
            saveSnapshot();
        }
        close();
    }

    /**
     * Without a state directory, what the core alone knows (a guest's pages
     * while it holds no device, so no unit has them) is written to its
     * bundle's data area; the process ending keeps nothing. Nothing is
     * written per operation.
     */
    private void saveSnapshot() {
        if (privateDirectory == null) {
            return;
        }
        try {
            Files.createDirectories(privateDirectory);
            Files.writeString(privateDirectory.resolve("framework"), frameworkId == null ? "" : frameworkId);
            Journal.rewrite(privateDirectory, attachments.byDevice(), pages.all(), quarantined.devices(), false, storage).close();
        } catch (IOException | RuntimeException e) {
            log.error("cannot keep the state in {} across the restart: {}; the pages of guests that hold no device"
                    + " are lost", privateDirectory, OneLine.of(e));
        }
    }

    /** The snapshot {@link #saveSnapshot} left in this framework launch, reconciled with the units, then consumed. */
    private boolean restoreSnapshot() {
        if (privateDirectory == null || frameworkId == null) {
            return false;
        }
        try {
            Path owner = privateDirectory.resolve("framework");
            Path file = privateDirectory.resolve(Journal.FILE);
            if (!Files.exists(file) || !Files.exists(owner) || !frameworkId.equals(Files.readString(owner).trim())) {
                return false;
            }
            Reconciliation.Result result = reconciliation.reconcile(Journal.read(privateDirectory));
            restored = result.restored();
            recoveryProblems = result.problems();
            recoveryProblems.forEach(p -> log.warn("recovery after a restart of the bundle: {}", p));
            Files.delete(file);
            return restored > 0;
        } catch (IOException | RuntimeException e) {
            log.error("cannot read the state kept in {} across the restart: {}", privateDirectory, OneLine.of(e));
            return false;
        }
    }

    /** What adopting a unit that came found (already logged), for the report. */
    public void unitAdopted(UnitAdoption.Result adopted) {
        unitProblems(adopted.problems());
        adopted.rebuilt().ifPresent(rebuilt::add);
    }

    /** Disagreements a unit's kept tables had with the records when it came (already logged). */
    public void unitProblems(Collection<String> problems) {
        for (String p : problems) {
            if (unitProblems.size() < KEPT_PROBLEMS) {
                unitProblems.add(p);
            }
        }
    }

    public StateDTO report() {
        StateDTO dto = new StateDTO();
        dto.directory = journal == null ? null : stateDirectory;
        dto.restored = restored;
        List<String> all = new ArrayList<>(recoveryProblems);
        if (journal != null) {
            // with state kept, what units' kept tables disagreed on belongs to the recovery report
            all.addAll(unitProblems);
        }
        dto.problems = List.copyOf(all);
        dto.rebuilt = journal == null ? List.of() : List.copyOf(rebuilt);
        return dto;
    }

    @Override
    public boolean durable() {
        return journal != null;
    }

    @Override
    public void attached(Collection<Attachment> list) {
        append(list.stream().map(Journal::attach).toList());
    }

    @Override
    public void attached(Collection<Attachment> list, GuestId guest, List<GuestMappings.Run> identityMaps) {
        List<String> records = new ArrayList<>(list.stream().map(Journal::attach).toList());
        identityMaps.forEach(r -> records.add(Journal.map(guest, r.iova(), r.hostAddress(), r.pages())));
        append(records);
    }

    @Override
    public void detached(Collection<PciAddress> devices, Map<GuestId, List<GuestMappings.Run>> identityUnmapped,
            Map<PciAddress, String> quarantined) {
        List<String> records = new ArrayList<>();
        identityUnmapped.forEach((guest, runs) -> runs.forEach(r -> records.add(Journal.unmap(guest, r.iova(),
                r.pages()))));
        devices.forEach(d -> records.add(Journal.detach(d)));
        quarantined.forEach((d, unit) -> records.add(Journal.quarantine(d, unit)));
        append(records);
    }

    @Override
    public void quarantined(Map<PciAddress, String> devices) {
        List<String> records = new ArrayList<>();
        devices.forEach((d, unit) -> records.add(Journal.quarantine(d, unit)));
        append(records);
    }

    @Override
    public void released(Collection<PciAddress> devices) {
        append(devices.stream().map(Journal::release).toList());
    }

    @Override
    public void detached(Collection<PciAddress> devices) {
        append(devices.stream().map(Journal::detach).toList());
    }

    @Override
    public void mapped(GuestId guest, List<GuestMappings.Run> runs) {
        append(runs.stream().map(r -> Journal.map(guest, r.iova(), r.hostAddress(), r.pages())).toList());
        lastMapped = runs.size() == 1 ? Journal.unmap(guest, runs.get(0).iova(), runs.get(0).pages()) : null;
    }

    @Override
    public void unmapped(GuestId guest, long iova, long count) {
        append(List.of(Journal.unmap(guest, iova, count)));
    }

    /** The map just journaled is taken back: a record undoing it might not fit on a full disk. */
    @Override
    public void mapUndone(GuestId guest, long iova, long count) {
        if (journal != null && Journal.unmap(guest, iova, count).equals(lastMapped) && journal.takeBackLastAppend()) {
            lastMapped = null;
            return;
        }
        unmapped(guest, iova, count);
    }

    private void append(List<String> records) {
        lastMapped = null;
        if (journal != null && !records.isEmpty()) {
            journal.append(records);
        }
    }
}
