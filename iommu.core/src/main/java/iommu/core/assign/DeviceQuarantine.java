package iommu.core.assign;

import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;

/**
 * Where a detached device goes: back to the host domain ({@code none}), or
 * into quarantine ({@code basic}), its context entries cleared so its DMA
 * faults until the host takes it back on purpose ({@link Operations#release}),
 * as Xen quarantines a device a domain had ({@code iommu=quarantine}: the
 * device is reassigned to dom_io, whose tables map nothing;
 * {@code xl pci-assignable-remove} gives it back to dom0). A device that was
 * a guest's may still have DMA in flight or a compromised firmware; the host
 * should not trust it until reset. Not thread-safe; called under the
 * component's lock.
 */
public final class DeviceQuarantine {

    /** What detach does with a guest's devices. */
    public enum Mode {
        /** Back to the host domain at once. */
        NONE,
        /** Context entries cleared, DMA faults, until released to the host. */
        BASIC;

        public static Mode parse(String value) {
            String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
            for (Mode m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(v)) {
                    return m;
                }
            }
            throw new IommuException("quarantine '" + value + "' unknown: expected none or basic");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private Mode mode;
    private final Map<PciAddress, String> unitOf = new TreeMap<>();

    public DeviceQuarantine(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    public void mode(Mode next) {
        this.mode = next;
    }

    public boolean holds(PciAddress device) {
        return unitOf.containsKey(device);
    }

    public void add(PciAddress device, String unitId) {
        unitOf.put(device, unitId);
    }

    public void remove(PciAddress device) {
        unitOf.remove(device);
    }

    /** The quarantined devices and their units (a view). */
    public Map<PciAddress, String> devices() {
        return java.util.Collections.unmodifiableMap(unitOf);
    }

    /** Every requester id of the unit that the quarantined devices' DMA carries (their own and their aliases). */
    public Set<PciAddress> entryIds(IommuUnit unit) {
        Set<PciAddress> ids = new HashSet<>();
        unitOf.forEach((device, unitId) -> {
            if (unitId.equals(unit.id())) {
                ids.addAll(Groups.aliasesOf(unit, device));
            }
        });
        return ids;
    }

    /** Replaces the record (a journal's is taken). */
    public void putAll(Map<PciAddress, String> devices) {
        unitOf.clear();
        unitOf.putAll(devices);
    }

    public void removeAll(Collection<PciAddress> devices) {
        devices.forEach(unitOf::remove);
    }
}
