package iommu.core.assign;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;

/**
 * The IOMMU groups of the devices the units translate, from each unit's
 * {@link IommuUnit#dmaAliases}: devices whose last alias (the requester id
 * the unit finally sees) is the same form one group, as Linux's
 * {@code pci_device_group} finds them through {@code pci_for_each_dma_alias}.
 * Immutable once built; the topology builds it again when units change.
 */
final class Groups {

    private final Map<PciAddress, Group> byDevice;
    private final List<Group> all;

    private Groups(Map<PciAddress, Group> byDevice, List<Group> all) {
        this.byDevice = byDevice;
        this.all = all;
    }

    /** @param deviceUnits each device with the unit translating it */
    static Groups of(Map<PciAddress, String> deviceUnits, Map<String, IommuUnit> units) {
        record Key(PciAddress requesterId, String unitId) implements Comparable<Key> {
            @Override
            public int compareTo(Key o) {
                int c = requesterId.compareTo(o.requesterId);
                return c != 0 ? c : unitId.compareTo(o.unitId);
            }
        }
        Map<Key, Set<PciAddress>> members = new TreeMap<>();
        Map<Key, Set<PciAddress>> entries = new TreeMap<>();
        Map<Key, Set<PciAddress>> aliases = new TreeMap<>();
        deviceUnits.forEach((device, unitId) -> {
            List<PciAddress> path = aliasesOf(units.get(unitId), device);
            Key key = new Key(path.get(path.size() - 1), unitId);
            members.computeIfAbsent(key, k -> new TreeSet<>()).add(device);
            entries.computeIfAbsent(key, k -> new TreeSet<>()).add(device);
            aliases.computeIfAbsent(key, k -> new LinkedHashSet<>()).addAll(path);
        });
        Map<PciAddress, Group> byDevice = new TreeMap<>();
        List<Group> all = new ArrayList<>();
        for (Key key : members.keySet()) {
            Set<PciAddress> ids = new LinkedHashSet<>(entries.get(key));
            ids.addAll(aliases.get(key));
            Group g = new Group(all.size(), key.unitId(), key.requesterId(), new ArrayList<>(members.get(key)), ids);
            all.add(g);
            g.members().forEach(d -> byDevice.put(d, g));
        }
        return new Groups(byDevice, List.copyOf(all));
    }

    /** The unit's aliases of the device, the device alone when the unit gives none. */
    static List<PciAddress> aliasesOf(IommuUnit unit, PciAddress device) {
        List<PciAddress> path = unit == null ? List.of() : unit.dmaAliases(device);
        return path == null || path.isEmpty() ? List.of(device) : path;
    }

    /** The device's group; a device no unit translates now is a group of its own. */
    Group of(PciAddress device) {
        Group g = byDevice.get(device);
        return g != null ? g : new Group(-1, "", device, List.of(device), Set.of(device));
    }

    List<Group> all() {
        return all;
    }

    /** The groups of the devices, each once, in order of number. */
    List<Group> of(Collection<PciAddress> devices) {
        Set<Group> seen = new LinkedHashSet<>();
        devices.forEach(d -> seen.add(of(d)));
        return new ArrayList<>(seen);
    }
}
