package iommu.vtd;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * What the firmware (or a platform file, or a configuration) says about one
 * DMA-remapping hardware unit: its id, segment, register base, CAP and ECAP
 * values, the INCLUDE_PCI_ALL flag and its device scopes.
 */
public record UnitDefinition(String id, int segment, long registerBase, Capability cap, ExtendedCapability ecap,
        boolean includePciAll, List<DeviceScope> scopes) {

    static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");

    public UnitDefinition {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(cap, "cap");
        Objects.requireNonNull(ecap, "ecap");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad unit id '" + id
                    + "': expected a letter then up to 63 letters, digits, '_', '.' or '-', e.g. dmar0");
        }
        if (segment < 0 || segment > 0xFFFF) {
            throw new IllegalArgumentException("unit " + id + ": segment " + segment + " out of range: expected 0..65535");
        }
        if (registerBase == 0 || (registerBase & 0xFFF) != 0) {
            throw new IllegalArgumentException(String.format(
                    "unit %s: register base 0x%x invalid: expected a nonzero 4 KiB-aligned address", id, registerBase));
        }
        scopes = List.copyOf(scopes);
        Set<PciAddress> seen = new HashSet<>();
        for (DeviceScope scope : scopes) {
            if (scope.address().segment() != segment) {
                throw new IllegalArgumentException(String.format(
                        "unit %s: scope %s is on segment %04x: expected the unit's segment %04x",
                        id, scope, scope.address().segment(), segment));
            }
            if (!seen.add(scope.address())) {
                throw new IllegalArgumentException("unit " + id + ": device " + scope.address()
                        + " named by two scopes: expected each device once per unit");
            }
        }
    }

    /** How this unit's scopes take in the device (endpoint beats bridge beats INCLUDE_PCI_ALL). */
    public ScopeMatch scopeOf(PciAddress device) {
        if (device.segment() != segment) {
            return ScopeMatch.NONE;
        }
        ScopeMatch best = includePciAll ? ScopeMatch.SEGMENT : ScopeMatch.NONE;
        for (DeviceScope scope : scopes) {
            if (scope.covers(device)) {
                if (scope.type() == DeviceScope.Type.ENDPOINT) {
                    return ScopeMatch.ENDPOINT;
                }
                best = ScopeMatch.BRIDGE;
            }
        }
        return best;
    }

    /**
     * Why this unit cannot sit beside {@code other} on one platform, or null
     * when it can: same id, same register base, two INCLUDE_PCI_ALL units on
     * one segment, one endpoint named by both.
     */
    public String conflictWith(UnitDefinition other) {
        if (id.equals(other.id)) {
            return "duplicate unit id " + id + ": expected each unit id once";
        }
        if (registerBase == other.registerBase) {
            return String.format("unit %s has the register base 0x%x of unit %s: expected distinct register bases",
                    id, registerBase, other.id);
        }
        if (includePciAll && other.includePciAll && segment == other.segment) {
            return String.format("unit %s is a second INCLUDE_PCI_ALL unit on segment %04x, after %s:"
                    + " expected at most one per segment", id, segment, other.id);
        }
        for (DeviceScope scope : scopes) {
            if (scope.type() == DeviceScope.Type.ENDPOINT && other.scopes.contains(scope)) {
                return "unit " + id + ": endpoint scope " + scope.address() + " already in unit " + other.id
                        + ": expected each endpoint named by one unit";
            }
        }
        return null;
    }

    /** The same unit under another id (discovery numbers the units it adds). */
    public UnitDefinition withId(String newId) {
        return new UnitDefinition(newId, segment, registerBase, cap, ecap, includePciAll, scopes);
    }

    public int domainIdCount() {
        return cap.domainIdCount();
    }
}
