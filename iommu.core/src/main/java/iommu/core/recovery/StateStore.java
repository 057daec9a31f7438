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
import iommu.api.PciAddress;
import iommu.api.dto.StateDTO;
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
    /** Null while state is ephemeral. */
    private Journal journal;
    private String stateDirectory = "";
    private int restored;
    private List<String> recoveryProblems = List.of();
    private final List<String> unitProblems = new ArrayList<>();

    private DeviceQuarantine quarantined = new DeviceQuarantine(DeviceQuarantine.Mode.NONE);

    /** The devices in quarantine, written in every snapshot of the journal. */
    public void keepQuarantine(DeviceQuarantine devices) {
        this.quarantined = devices;
    }

    public StateStore(Attachments attachments, GuestPages pages, Reconciliation reconciliation, Logger log,
            Path privateDirectory, String frameworkId) {
        this.attachments = attachments;
        this.pages = pages;
        this.reconciliation = reconciliation;
        this.log = log;
        this.privateDirectory = privateDirectory;
        this.frameworkId = frameworkId;
    }

    /**
     * Switches to the state directory: its journal is reconciled with the
     * present state, then rewritten as a snapshot of the result. An empty one
     * makes state ephemeral; on activation that reads the snapshot a
     * deactivation of this launch left.
     *
     * @return whether attachments were restored, so the allocator must learn them
     */
    public boolean open(String directory, boolean activating) {
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
        Journal.State loaded;
        try {
            loaded = Journal.read(Path.of(wanted));
        } catch (RuntimeException e) {
            recoveryProblems = List.of(OneLine.of(e));
            log.error("state directory {} not loaded: {}", wanted, OneLine.of(e));
            return false;
        }
        close();
        stateDirectory = wanted;
        Reconciliation.Result result = reconciliation.reconcile(loaded);
        restored = result.restored();
        recoveryProblems = result.problems();
        recoveryProblems.forEach(p -> log.warn("recovery from {}: {}", wanted, p));
        journal = Journal.rewrite(Path.of(wanted), attachments.byDevice(), pages.all(), quarantined.devices(), true);
        log.info("state kept in {}: {} attachments restored, {} disagreements reported", wanted, restored,
                recoveryProblems.size());
        return restored > 0;
    }

    /** Closes the journal; state is ephemeral until the next {@link #open}. */
    public void close() {
        if (journal != null) {
            journal.close();
            journal = null;
        }
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
            Journal.rewrite(privateDirectory, attachments.byDevice(), pages.all(), quarantined.devices(), false).close();
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
    }

    @Override
    public void unmapped(GuestId guest, long iova, long count) {
        append(List.of(Journal.unmap(guest, iova, count)));
    }

    private void append(List<String> records) {
        if (journal != null && !records.isEmpty()) {
            journal.append(records);
        }
    }
}
