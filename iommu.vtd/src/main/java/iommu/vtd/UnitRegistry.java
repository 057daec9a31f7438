package iommu.vtd;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * Every VT-d unit of this bundle, from the platform file and from
 * configurations alike, over one PCI inventory: the one place that knows all
 * units, so that a unit's devices are those it claims best.
 *
 * <p>Readers ({@link #bestClaimant}, {@link #units}) see an immutable
 * snapshot and never block. Adding and removing is serialized. A unit joins
 * the snapshot before its service is registered, and leaves it before its
 * service is unregistered: while a unit's service goes, the other units
 * already claim its devices (the core rebuilds its device index in the unbind
 * callback), and the departing unit can still clear the context entries it
 * holds.
 */
final class UnitRegistry implements UnitDirectory {

    private static final class Entry {
        final VtdUnit unit;
        volatile UnitPublisher.Publication publication;

        Entry(VtdUnit unit) {
            this.unit = unit;
        }
    }

    private final PciInventory inventory;
    private final UnitPublisher publisher;
    private final Object changes = new Object();
    private volatile List<Entry> entries = List.of();

    UnitRegistry(PciInventory inventory, UnitPublisher publisher) {
        this.inventory = Objects.requireNonNull(inventory, "inventory");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    @Override
    public PciInventory inventory() {
        return inventory;
    }

    /** The units in registration order. */
    List<VtdUnit> units() {
        return entries.stream().map(e -> e.unit).toList();
    }

    Optional<VtdUnit> unit(String id) {
        return entries.stream().map(e -> e.unit).filter(u -> u.id().equals(id)).findFirst();
    }

    @Override
    public Optional<VtdUnit> bestClaimant(PciAddress device) {
        VtdUnit best = null;
        ScopeMatch bestMatch = ScopeMatch.NONE;
        for (Entry entry : entries) {
            ScopeMatch match = entry.unit.definition().scopeOf(device);
            if (match.compareTo(bestMatch) > 0) {
                best = entry.unit;
                bestMatch = match;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * Why the definition cannot join the units there are (and those before it
     * in {@code pending}), or null.
     */
    private String conflict(UnitDefinition candidate, Collection<UnitDefinition> pending) {
        for (Entry entry : entries) {
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
                String conflict = conflict(definition, checked);
                if (conflict != null) {
                    throw new IllegalArgumentException(conflict);
                }
                checked.add(definition);
            }
            List<VtdUnit> added = new ArrayList<>();
            for (UnitDefinition definition : checked) {
                added.add(addChecked(definition, source));
            }
            return added;
        }
    }

    /**
     * Adds and publishes one unit.
     *
     * @throws IllegalArgumentException naming the conflict with a unit there is; nothing added
     */
    VtdUnit add(UnitDefinition definition, String source) {
        return addAll(List.of(definition), source).get(0);
    }

    private VtdUnit addChecked(UnitDefinition definition, String source) {
        Entry entry = new Entry(new VtdUnit(definition, source, this));
        List<Entry> with = new ArrayList<>(entries);
        with.add(entry);
        entries = List.copyOf(with);
        try {
            entry.publication = publisher.publish(entry.unit);
        } catch (RuntimeException e) {
            drop(entry);
            throw e;
        }
        return entry.unit;
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
    }

    private void drop(Entry entry) {
        List<Entry> without = new ArrayList<>(entries);
        without.remove(entry);
        entries = List.copyOf(without);
    }
}
