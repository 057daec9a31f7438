package iommu.core.assign;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.UnitDescriptor;
import iommu.api.spi.support.DeviceIndex;

/**
 * The units present, what the allocator is told of each (kept for a unit that
 * left with devices attached), and which unit translates each device (the one
 * rule of {@link iommu.api.spi.support.UnitClaims}). Not thread-safe; called
 * under the component's lock.
 */
public final class Topology {

    private final Map<String, IommuUnit> units = new TreeMap<>();
    private final Map<String, UnitDescriptor> descriptors = new TreeMap<>();
    private final DeviceIndex index = new DeviceIndex();
    /** Built when first asked for after a change of the units. */
    private Groups groups;

    /** The unit present with that id, or null. */
    public IommuUnit unit(String unitId) {
        return units.get(unitId);
    }

    public boolean isPresent(String unitId) {
        return units.containsKey(unitId);
    }

    /** The unit present with that id, else a clear error. */
    public IommuUnit present(String unitId) {
        IommuUnit unit = units.get(unitId);
        if (unit == null) {
            throw new IommuException("unit " + unitId + " is not present");
        }
        return unit;
    }

    /** The units present, by id. */
    public Collection<IommuUnit> units() {
        return Collections.unmodifiableCollection(units.values());
    }

    public Set<String> unitIds() {
        return Collections.unmodifiableSet(units.keySet());
    }

    public void add(IommuUnit unit) {
        units.put(unit.id(), unit);
        groups = null;
    }

    /** Whether that very unit was the present one with its id (and is no longer). */
    public boolean remove(IommuUnit unit) {
        groups = null;
        return units.remove(unit.id(), unit);
    }

    /** What the allocator knows of each unit, by id: the units present and those that left with devices attached. */
    public Collection<UnitDescriptor> descriptors() {
        return Collections.unmodifiableCollection(descriptors.values());
    }

    public Set<String> describedUnits() {
        return Collections.unmodifiableSet(descriptors.keySet());
    }

    public UnitDescriptor descriptor(String unitId) {
        return descriptors.get(unitId);
    }

    public void describe(UnitDescriptor descriptor) {
        descriptors.put(descriptor.unitId(), descriptor);
    }

    public void forgetDescriptor(String unitId) {
        descriptors.remove(unitId);
    }

    /** Which unit translates each device: every present unit's claims, afresh. */
    public void rebuildIndex() {
        groups = null;
        index.clear();
        units.values().forEach(this::indexUnit);
    }

    /** A unit appeared: it takes the devices it claims more strongly than their unit; nothing else is read. */
    public void indexUnit(IommuUnit unit) {
        groups = null;
        for (PciAddress device : unit.devices()) {
            index.claim(device, unit.id(), unit.scopeOf(device));
        }
    }

    /** A unit went: its devices go to the strongest remaining claimant; only they are looked at. */
    public void unindexUnit(String unitId) {
        groups = null;
        Set<PciAddress> orphans = index.removeUnit(unitId);
        if (orphans.isEmpty()) {
            return;
        }
        for (IommuUnit unit : units.values()) {
            // a unit's scope may reach a device it does not translate (another INCLUDE_PCI_ALL
            // unit, say): only the devices it lists are its own
            Set<PciAddress> listed = new HashSet<>(unit.devices());
            for (PciAddress device : orphans) {
                if (listed.contains(device)) {
                    index.claim(device, unit.id(), unit.scopeOf(device));
                }
            }
        }
    }

    /** The unit that translates the device, else a clear error. */
    public String resolve(PciAddress device) {
        Optional<String> unitId = index.unitOf(device);
        if (unitId.isEmpty()) {
            throw new IommuException("unknown device " + device + ": no IOMMU unit translates it (" + index.size()
                    + " devices known on units " + units.keySet() + "; see iommu:devices)");
        }
        return unitId.get();
    }

    public boolean knows(PciAddress device) {
        return index.contains(device);
    }

    /** Every known device with its unit, by address (a copy). */
    public Map<PciAddress, String> deviceUnits() {
        return index.units();
    }

    /** How many devices the unit translates. */
    public int deviceCount(String unitId) {
        return index.devicesOf(unitId).size();
    }

    private Groups groups() {
        if (groups == null) {
            groups = Groups.of(index.units(), units);
        }
        return groups;
    }

    /** The device's IOMMU group (a group of its own while no unit translates it). */
    public Group group(PciAddress device) {
        return groups().of(device);
    }

    /** Every group of the units present, by number. */
    public List<Group> allGroups() {
        return groups().all();
    }

    /**
     * The context entries the attachments need, each once: for each, every
     * requester id its group's DMA carries (its own id first), tagged as the
     * attachment is. Counting these, not devices, is what tells whether a
     * guest still has an entry on a unit (Xen dec403cc66).
     */
    public List<Attachment> entries(Collection<Attachment> attachments) {
        Map<PciAddress, Attachment> out = new LinkedHashMap<>();
        for (Attachment a : attachments) {
            out.putIfAbsent(a.device(), a);
        }
        for (Attachment a : attachments) {
            for (PciAddress id : Groups.aliasesOf(units.get(a.unitId()), a.device())) {
                out.putIfAbsent(id, new Attachment(id, a.guest(), a.unitId(), a.domainId()));
            }
        }
        return new ArrayList<>(out.values());
    }
}
