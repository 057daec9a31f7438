package iommu.amdvi;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import iommu.api.PciAddress;
import iommu.api.spi.support.UnitClaims;

/**
 * Every AMD-Vi unit of this bundle. Readers see an immutable snapshot and
 * never block; adding and removing are serialized. A unit joins the snapshot
 * before its service is registered and leaves it before its service is
 * unregistered, so that while a unit's service goes the others already claim
 * its devices. Ids are {@code ivhdN}, the lowest N free.
 */
final class UnitRegistry implements UnitDirectory {

    /** Makes a unit visible: the OSGi implementation registers an IommuUnit service, tests use {@link #NONE}. */
    interface Publisher {
        /** Takes the unit back; a second call does nothing. */
        interface Publication {
            void withdraw();
        }

        Publication publish(AmdViUnit unit);

        Publisher NONE = unit -> () -> {
        };
    }

    private record Entry(AmdViUnit unit, Publisher.Publication[] publication) {
    }

    private final Publisher publisher;
    private final Object changes = new Object();
    private volatile List<Entry> entries = List.of();
    private volatile long generation;

    UnitRegistry(Publisher publisher) {
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    List<AmdViUnit> units() {
        return entries.stream().map(Entry::unit).toList();
    }

    Optional<AmdViUnit> unit(String id) {
        return units().stream().filter(u -> u.id().equals(id)).findFirst();
    }

    /**
     * The unit whose IVHD claims the device most strongly, by the platform's
     * one rule ({@link UnitClaims#best}): a device the IVHD names over its ALL
     * entry, and between equal claims the unit id that sorts first, not the
     * unit registered first, so the core and this bundle agree whatever the
     * order units came in. Linux's AMD driver fills its rlookup table IVHD by
     * IVHD (init_iommu_from_acpi calls set_iommu_for_device, now
     * amd_iommu_set_rlookup_table, drivers/iommu/amd/init.c: {@code
     * rlookup_table[devid] = iommu}), so there a later IVHD naming a device
     * again takes it: {@link IvhdClaims} does that at discovery, so the units
     * of one table never tie, and this rule only decides between units of
     * different tables.
     */
    @Override
    public Optional<AmdViUnit> bestClaimant(PciAddress device) {
        return UnitClaims.best(units(), AmdViUnit::id, unit -> unit.definition().scopeOf(device));
    }

    @Override
    public long generation() {
        return generation;
    }

    /**
     * Checks, numbers and publishes the units, all or none.
     *
     * @throws IllegalArgumentException when one is an IOMMU there already is (same segment and base); nothing added
     */
    List<AmdViUnit> addAll(List<UnitDefinition> definitions, String source) {
        synchronized (changes) {
            for (int i = 0; i < definitions.size(); i++) {
                UnitDefinition d = definitions.get(i);
                for (Entry e : entries) {
                    UnitDefinition o = e.unit().definition();
                    if (o.segment() == d.segment() && o.registerBase() == d.registerBase()) {
                        throw new IllegalArgumentException(String.format("the IOMMU at %04x base 0x%x from %s is"
                                + " already unit %s (from %s): expected an IOMMU not yet discovered; forget %s"
                                + " first", d.segment(), d.registerBase(), source, o.id(), e.unit().source(),
                                o.id()));
                    }
                }
            }
            Set<Integer> taken = new TreeSet<>();
            for (Entry e : entries) {
                String id = e.unit().id();
                if (id.matches("ivhd\\d+")) {
                    taken.add(Integer.parseInt(id.substring(4)));
                }
            }
            List<AmdViUnit> added = new ArrayList<>();
            int n = 0;
            for (UnitDefinition d : definitions) {
                while (taken.contains(n)) {
                    n++;
                }
                taken.add(n);
                Entry entry = new Entry(new AmdViUnit(d.withId("ivhd" + n), source, this),
                        new Publisher.Publication[1]);
                List<Entry> with = new ArrayList<>(entries);
                with.add(entry);
                entries = List.copyOf(with);
                generation++;
                try {
                    entry.publication()[0] = publisher.publish(entry.unit());
                } catch (RuntimeException ex) {
                    drop(entry);
                    throw ex;
                }
                added.add(entry.unit());
            }
            return added;
        }
    }

    /** Withdraws and removes the unit; false when it is not here. */
    boolean remove(AmdViUnit unit) {
        synchronized (changes) {
            for (Entry e : entries) {
                if (e.unit() == unit) {
                    drop(e);
                    withdraw(e);
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

    private static void withdraw(Entry e) {
        Publisher.Publication p = e.publication()[0];
        if (p != null) {
            p.withdraw();
        }
    }

    private void drop(Entry e) {
        List<Entry> without = new ArrayList<>(entries);
        without.remove(e);
        entries = List.copyOf(without);
        generation++;
    }
}
