package iommu.api.spi.support;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * Which unit translates each device, kept up to date as units come and go:
 * a device goes to the unit whose claim {@link UnitClaims#beats} the one it
 * has. Not thread-safe.
 */
public final class DeviceIndex {

    private record Claim(String unitId, ScopeMatch match) {
    }

    private final Map<PciAddress, Claim> byDevice = new TreeMap<>();
    private final Map<String, Set<PciAddress>> byUnit = new HashMap<>();

    /** The unit claims the device; it takes it when its claim beats the present one. */
    public void claim(PciAddress device, String unitId, ScopeMatch match) {
        Claim held = byDevice.get(device);
        if (!UnitClaims.beats(match, unitId, held == null ? null : held.match(), held == null ? null : held.unitId())) {
            return;
        }
        if (held != null) {
            byUnit.get(held.unitId()).remove(device);
        }
        byDevice.put(device, new Claim(unitId, match));
        byUnit.computeIfAbsent(unitId, u -> new HashSet<>()).add(device);
    }

    /**
     * The unit leaves: its devices lose their unit and are returned, for the
     * remaining units to {@link #claim} again.
     */
    public Set<PciAddress> removeUnit(String unitId) {
        Set<PciAddress> orphans = byUnit.remove(unitId);
        if (orphans == null) {
            return Set.of();
        }
        orphans.forEach(byDevice::remove);
        return orphans;
    }

    /** The unit that translates the device. */
    public Optional<String> unitOf(PciAddress device) {
        Claim c = byDevice.get(device);
        return c == null ? Optional.empty() : Optional.of(c.unitId());
    }

    /** How that unit claims it, {@link ScopeMatch#NONE} when none does. */
    public ScopeMatch claimOf(PciAddress device) {
        Claim c = byDevice.get(device);
        return c == null ? ScopeMatch.NONE : c.match();
    }

    public boolean contains(PciAddress device) {
        return byDevice.containsKey(device);
    }

    /** The devices the unit translates (a view). */
    public Set<PciAddress> devicesOf(String unitId) {
        return Collections.unmodifiableSet(byUnit.getOrDefault(unitId, Set.of()));
    }

    /** Every device with its unit, by address (a copy). */
    public Map<PciAddress, String> units() {
        Map<PciAddress, String> all = new TreeMap<>();
        byDevice.forEach((d, c) -> all.put(d, c.unitId()));
        return all;
    }

    public int size() {
        return byDevice.size();
    }

    public void clear() {
        byDevice.clear();
        byUnit.clear();
    }
}
