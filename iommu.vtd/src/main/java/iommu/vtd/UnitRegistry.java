package iommu.vtd;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.support.UnitClaims;

/**
 * Every VT-d unit of this bundle, from the platform, from discovery and from
 * configurations alike, over one PCI inventory: the one place that knows all
 * units, so that a unit's devices are those it claims best. It also holds the
 * firmware's reserved memory regions (RMRRs), which units consult for
 * {@link VtdUnit#hasReservedMemory}.
 *
 * <p>Readers ({@link #bestClaimant}, {@link #units}, {@link #inventory}) see
 * immutable snapshots and never block. Adding and removing is serialized. A
 * unit joins the snapshot before its service is registered, and leaves it
 * before its service is unregistered: while a unit's service goes, the other
 * units already claim its devices (the core rebuilds its device index in the
 * unbind callback), and the departing unit can still clear the context
 * entries it holds.
 */
final class UnitRegistry implements UnitDirectory {

    /** Sources of units that came from an {@code iommu.vtd.unit} configuration start with this. */
    static final String CONFIGURATION = "configuration ";
    private static final Pattern DMAR_ID = Pattern.compile("dmar([0-9]{1,9})");

    private static final class Entry {
        final VtdUnit unit;
        volatile UnitPublisher.Publication publication;

        Entry(VtdUnit unit) {
            this.unit = unit;
        }
    }

    /** What {@link #admit} registered, and the units it left out. */
    record Admission(List<VtdUnit> units, List<String> warnings) {
    }

    private final UnitPublisher publisher;
    private final Object changes = new Object();
    private volatile PciInventory inventory;
    private volatile List<ReservedRegion> reserved = List.of();
    private volatile AtsReports ats = AtsReports.NONE;
    private volatile List<Entry> entries = List.of();
    /** Where units keep their tables; null: on the heap. */
    private volatile java.nio.file.Path tablesDirectory;

    UnitRegistry(PciInventory inventory, UnitPublisher publisher) {
        this.inventory = Objects.requireNonNull(inventory, "inventory");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public PciInventory inventory() {
        return inventory;
    }

    /** Whether an RMRR of the platform names the device (an endpoint scope) or a bridge above it. */
    @Override
    public boolean hasReservedMemory(PciAddress device) {
        return reserved.stream().anyMatch(r -> r.covers(device));
    }

    @Override
    public List<ReservedRegion> reservedMemoryOf(PciAddress device) {
        return reserved.stream().filter(r -> r.covers(device))
                .sorted(java.util.Comparator.comparingLong(ReservedRegion::base)).toList();
    }

    @Override
    public AtsReports atsReports() {
        return ats;
    }

    /** The reserved memory regions of every platform added. */
    List<ReservedRegion> reserved() {
        return reserved;
    }

    /** The units in registration order. */
    List<VtdUnit> units() {
        return entries.stream().map(e -> e.unit).toList();
    }

    Optional<VtdUnit> unit(String id) {
        return entries.stream().map(e -> e.unit).filter(u -> u.id().equals(id)).findFirst();
    }

    /**
     * The unit whose scope claims the device most strongly, by the platform's
     * one rule ({@link UnitClaims#best}): an endpoint scope, else a bridge
     * scope, else the segment's INCLUDE_PCI_ALL unit, as Linux
     * {@code dmar_find_matched_drhd_unit} (drivers/iommu/intel/dmar.c) takes a
     * unit by its device scopes before the INCLUDE_PCI_ALL one it keeps last.
     * Between equal claims (two bridge scopes over one bus: the only tie
     * {@link UnitDefinition#conflictWith} lets in) the unit id that sorts
     * first wins, not the unit registered first, so the core and this bundle
     * agree whatever the order units came in.
     */
    @Override
    public Optional<VtdUnit> bestClaimant(PciAddress device) {
        return UnitClaims.best(units(), VtdUnit::id, unit -> unit.scopeOf(device));
    }

    /**
     * Why the definition cannot join the units there are (and those before it
     * in {@code pending}), or null.
     */
    private String conflict(UnitDefinition candidate, Collection<UnitDefinition> pending, List<Entry> present) {
        for (Entry entry : present) {
            String conflict = candidate.conflictWith(entry.unit.definition());
            if (conflict != null) {
                return conflict + " (from " + entry.unit.source() + ")";
            }
        }
        for (UnitDefinition other : pending) {
            String conflict = candidate.conflictWith(other);
            if (conflict != null) {
                return conflict;
            }
        }
        return null;
    }

    /**
     * Adds and publishes the units, all or none: each is checked against the
     * units there are and the ones before it first.
     *
     * @throws IllegalArgumentException naming the conflict; nothing added
     */
    List<VtdUnit> addAll(List<UnitDefinition> definitions, String source) {
        synchronized (changes) {
            List<UnitDefinition> checked = new ArrayList<>();
            for (UnitDefinition definition : definitions) {
                String conflict = conflict(definition, checked, entries);
                if (conflict != null) {
                    throw new IllegalArgumentException(conflict);
                }
                checked.add(definition);
            }
            return publishAll(checked, source);
        }
    }

    /**
     * Adds a platform: its PCI functions join the inventory, its reserved
     * regions the registry's, and its units are published, all or none.
     *
     * @param renumber whether the units get ids continuing the {@code dmarN}
     *        numbering of the units present (discovery), or keep theirs
     * @param lenient whether a unit that conflicts with a unit present (same
     *        register base, a second INCLUDE_PCI_ALL on its segment, an endpoint
     *        another names) is left out with a warning rather than refusing all
     * @throws IllegalArgumentException when the inventories disagree, a unit
     *         conflicts (not lenient), or every unit was left out; nothing changed
     */
    Admission admit(Platform platform, String source, boolean renumber, boolean lenient) {
        synchronized (changes) {
            PciInventory merged = inventory.merge(platform.inventory(), platform.source());
            List<String> warnings = new ArrayList<>();
            List<UnitDefinition> accepted = new ArrayList<>();
            int next = nextDmarNumber(entries);
            for (UnitDefinition definition : platform.units()) {
                UnitDefinition candidate = renumber ? definition.withId("dmar" + next) : definition;
                String conflict = conflict(candidate, accepted, entries);
                if (conflict != null) {
                    if (!lenient) {
                        throw new IllegalArgumentException(conflict);
                    }
                    warnings.add(String.format("%s: unit at register base 0x%x not registered: %s", platform.source(),
                            definition.registerBase(), conflict));
                    continue;
                }
                accepted.add(candidate);
                next++;
            }
            if (accepted.isEmpty() && !platform.units().isEmpty()) {
                throw new IllegalArgumentException(warnings.get(0)
                        + (warnings.size() > 1 ? " (and " + (warnings.size() - 1) + " more like it)" : "")
                        + ": no unit registered");
            }
            PciInventory before = inventory;
            List<ReservedRegion> reservedBefore = reserved;
            AtsReports atsBefore = ats;
            inventory = merged;
            reserved = concat(reserved, platform.reserved());
            ats = ats.plus(platform.ats());
            try {
                return new Admission(publishAll(accepted, source), warnings);
            } catch (RuntimeException e) {
                inventory = before;
                reserved = reservedBefore;
                ats = atsBefore;
                throw e;
            }
        }
    }

    /**
     * Replaces every unit that did not come from a configuration (the
     * platform's and the discovered ones) with the platform's units, and the
     * inventory and reserved regions with the platform's.
     *
     * @throws IommuException when a unit being replaced has a present context
     *         entry; nothing changed
     * @throws IllegalArgumentException when a new unit conflicts with a unit
     *         from a configuration; nothing changed
     */
    List<VtdUnit> replace(Platform platform, String source) {
        synchronized (changes) {
            List<Entry> replaced = entries.stream().filter(e -> !e.unit.source().startsWith(CONFIGURATION)).toList();
            List<Entry> kept = entries.stream().filter(e -> e.unit.source().startsWith(CONFIGURATION)).toList();
            for (Entry entry : replaced) {
                String attached = attachedDevice(entry.unit);
                if (attached != null) {
                    throw new IommuException("unit " + entry.unit.id() + " cannot be replaced: " + attached
                            + ": expected every device of the platform detached first");
                }
            }
            List<UnitDefinition> checked = new ArrayList<>();
            for (UnitDefinition definition : platform.units()) {
                String conflict = conflict(definition, checked, kept);
                if (conflict != null) {
                    throw new IllegalArgumentException(conflict);
                }
                checked.add(definition);
            }
            checkTableFiles(checked);
            for (int i = replaced.size() - 1; i >= 0; i--) {
                drop(replaced.get(i));
                withdraw(replaced.get(i));
            }
            inventory = platform.inventory();
            reserved = platform.reserved();
            ats = platform.ats();
            return publishAll(checked, source);
        }
    }

    /**
     * Unregisters a unit that came from the platform or from discovery.
     *
     * @throws IommuException for an unknown unit, one from a configuration (delete the configuration), or one
     *         with a present context entry; nothing changed
     */
    VtdUnit forget(String id) {
        synchronized (changes) {
            List<Entry> now = entries;
            int index = -1;
            for (int i = 0; i < now.size(); i++) {
                if (now.get(i).unit.id().equals(id)) {
                    index = i;
                }
            }
            if (index < 0) {
                throw new IommuException("unknown unit '" + id + "': expected one of "
                        + now.stream().map(e -> e.unit.id()).toList());
            }
            Entry entry = now.get(index);
            if (entry.unit.source().startsWith(CONFIGURATION)) {
                throw new IommuException("unit " + id + " comes from " + entry.unit.source()
                        + ": expected that configuration deleted instead");
            }
            String attached = attachedDevice(entry.unit);
            if (attached != null) {
                throw new IommuException("unit " + id + " is in use: " + attached + ": expected its devices detached"
                        + " first");
            }
            drop(entry);
            // an attach that read the old snapshot may have slipped in; put the unit back rather than lose it
            attached = attachedDevice(entry.unit);
            if (attached != null) {
                List<Entry> back = new ArrayList<>(entries);
                back.add(Math.min(index, back.size()), entry);
                entries = List.copyOf(back);
                entry.unit.leaving(null);
                throw new IommuException("unit " + id + " is in use: " + attached + ": expected its devices detached"
                        + " first");
            }
            withdraw(entry);
            return entry.unit;
        }
    }

    /** The first device of the inventory whose context entry on the unit is present, described, or null. */
    private String attachedDevice(VtdUnit unit) {
        for (PciAddress device : inventory.devices()) {
            if (device.segment() != unit.segment()) {
                continue;
            }
            Optional<DeviceContext> context = unit.context(device);
            if (context.isPresent() && !context.get().isHost()) { // the host domain's entries go with the unit
                return String.format("the context entry of %s is present (guest %s, domain id %d)", device,
                        context.get().guest(), context.get().domainId().value());
            }
        }
        return null;
    }

    /** One above the highest {@code dmarN} id present (0 when there is none). */
    private static int nextDmarNumber(List<Entry> present) {
        int next = 0;
        for (Entry entry : present) {
            Matcher m = DMAR_ID.matcher(entry.unit.id());
            if (m.matches()) {
                next = Math.max(next, Integer.parseInt(m.group(1)) + 1);
            }
        }
        return next;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        if (b.isEmpty()) {
            return a;
        }
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    /**
     * Adds and publishes one unit.
     *
     * @throws IllegalArgumentException naming the conflict with a unit there is; nothing added
     */
    VtdUnit add(UnitDefinition definition, String source) {
        return addAll(List.of(definition), source).get(0);
    }

    /** Publishes checked units; when one fails, the ones published before it are taken back. */
    private List<VtdUnit> publishAll(List<UnitDefinition> checked, String source) {
        List<Entry> added = new ArrayList<>();
        try {
            for (UnitDefinition definition : checked) {
                added.add(addChecked(definition, source));
            }
        } catch (RuntimeException e) {
            for (int i = added.size() - 1; i >= 0; i--) {
                drop(added.get(i));
                withdraw(added.get(i));
            }
            throw e;
        }
        return added.stream().map(e -> e.unit).toList();
    }

    /** The directory units keep their tables in, if any. */
    Optional<java.nio.file.Path> tablesDirectory() {
        return Optional.ofNullable(tablesDirectory);
    }

    /**
     * From now on units keep their tables in files of the directory (null:
     * on the heap). Every unit is opened on its file first, then the units are
     * replaced one by one (the old one withdrawn, the new one published in its
     * place): one whose file holds tables inherits them, the others start
     * theirs there. The platform writes its assignments again on a unit that
     * came back without them.
     *
     * @return the units now registered
     * @throws IllegalArgumentException when a unit's file cannot be used; nothing changed
     */
    List<VtdUnit> keepTablesIn(java.nio.file.Path directory) {
        return keepTablesIn(directory, false);
    }

    /**
     * @param setAsideRefused a file that would be refused is renamed aside and the unit starts on a new one
     *        ({@link RefusedTables}), for the platform to rebuild its tables from its journal
     */
    List<VtdUnit> keepTablesIn(java.nio.file.Path directory, boolean setAsideRefused) {
        synchronized (changes) {
            if (Objects.equals(directory, tablesDirectory)) {
                return units();
            }
            List<Entry> present = entries;
            List<VtdUnit> opened = new ArrayList<>();
            try {
                for (Entry entry : present) {
                    opened.add(newUnit(entry.unit.definition(), entry.unit.source(), directory, setAsideRefused));
                }
            } catch (RuntimeException e) {
                opened.forEach(VtdUnit::close);
                throw e;
            }
            tablesDirectory = directory;
            for (int i = 0; i < present.size(); i++) {
                Entry old = present.get(i);
                Entry replacement = new Entry(opened.get(i));
                old.unit.leaving(Set.copyOf(old.unit.devices()));
                List<Entry> with = new ArrayList<>(entries);
                with.set(with.indexOf(old), replacement);
                entries = List.copyOf(with);
                withdraw(old);
                replacement.publication = publisher.publish(replacement.unit);
            }
            return units();
        }
    }

    /** Refuses, before anything changes, units whose table file in the directory is another unit's or unreadable. */
    private void checkTableFiles(List<UnitDefinition> definitions) {
        java.nio.file.Path directory = tablesDirectory;
        if (directory == null) {
            return;
        }
        for (UnitDefinition definition : definitions) {
            try {
                TableFile.check(directory, definition, VtdUnit.DEFAULT_VERSION, VtdUnit.TABLE_REGION,
                        VtdUnit.TABLE_REGION_PAGES);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("unit " + definition.id() + ": cannot read table file "
                        + TableFile.fileOf(directory, definition) + ": " + e, e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unit " + definition.id() + ": " + e.getMessage(), e);
            }
        }
    }

    /** A unit on the heap, or on its table file in the directory. */
    private VtdUnit newUnit(UnitDefinition definition, String source, java.nio.file.Path directory) {
        return newUnit(definition, source, directory, false);
    }

    private VtdUnit newUnit(UnitDefinition definition, String source, java.nio.file.Path directory,
            boolean setAsideRefused) {
        if (directory == null) {
            return new VtdUnit(definition, source, this);
        }
        try {
            return onFile(definition, source, directory);
        } catch (IllegalArgumentException refused) {
            if (!setAsideRefused) {
                throw new IllegalArgumentException("unit " + definition.id() + ": " + refused.getMessage(), refused);
            }
            String setAside = RefusedTables.setAside(TableFile.fileOf(directory, definition), refused);
            VtdUnit fresh = onFile(definition, source, directory);
            fresh.tablesWereSetAside(setAside);
            return fresh;
        }
    }

    /**
     * The unit on its file in the directory.
     *
     * @throws IllegalArgumentException when the file is refused (another unit's, another format, damaged)
     * @throws IommuException when it cannot be read or written (no space left)
     */
    private VtdUnit onFile(UnitDefinition definition, String source, java.nio.file.Path directory) {
        TableFile file;
        try {
            file = TableFile.open(directory, definition, VtdUnit.DEFAULT_VERSION, VtdUnit.TABLE_REGION,
                    VtdUnit.TABLE_REGION_PAGES);
        } catch (java.io.IOException e) {
            java.nio.file.Path state = TableFile.stateDirectoryOf(directory);
            throw iommu.api.spi.support.WriteFailure.of(state, "unit " + definition.id() + "'s table file "
                    + state.relativize(TableFile.fileOf(directory, definition).toAbsolutePath()),
                    "the units' tables are not moved there", e);
        }
        try {
            return new VtdUnit(definition, source, this, VtdUnit.DEFAULT_VERSION, file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private Entry addChecked(UnitDefinition definition, String source) {
        Entry entry = new Entry(newUnit(definition, source, tablesDirectory));
        List<Entry> with = new ArrayList<>(entries);
        with.add(entry);
        entries = List.copyOf(with);
        try {
            entry.publication = publisher.publish(entry.unit);
        } catch (RuntimeException e) {
            drop(entry);
            entry.unit.close();
            throw e;
        }
        return entry;
    }

    /** Withdraws and removes the unit; false when it is not here. */
    boolean remove(VtdUnit unit) {
        synchronized (changes) {
            for (Entry entry : entries) {
                if (entry.unit == unit) {
                    // drop first: while the service goes, the other units' devices() already claim its devices
                    drop(entry);
                    withdraw(entry);
                    return true;
                }
            }
            return false;
        }
    }

    /** Withdraws and removes every unit, the last added first. */
    void removeAll() {
        synchronized (changes) {
            List<Entry> all = new ArrayList<>(entries);
            for (int i = all.size() - 1; i >= 0; i--) {
                drop(all.get(i));
                withdraw(all.get(i));
            }
        }
    }

    private static void withdraw(Entry entry) {
        UnitPublisher.Publication publication = entry.publication;
        if (publication != null) {
            publication.withdraw();
        }
        entry.unit.close();
    }

    private void drop(Entry entry) {
        // until its service is gone, the unit still takes its own devices' entries (a rollback in flight)
        entry.unit.leaving(Set.copyOf(entry.unit.devices()));
        List<Entry> without = new ArrayList<>(entries);
        without.remove(entry);
        entries = List.copyOf(without);
    }
}
