package iommu.vtd;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/**
 * The context entries a unit was programmed with, one per source id. This
 * first version keeps them in a map; the root/context tables in simulated
 * physical memory (DESIGN 6) replace it behind the same methods. Not
 * thread-safe: the unit guards it.
 */
final class ContextTable {
    private final Map<PciAddress, DeviceContext> entries = new HashMap<>();

    Optional<DeviceContext> get(PciAddress device) {
        return Optional.ofNullable(entries.get(device));
    }

    void set(PciAddress device, DeviceContext context) {
        entries.put(device, context);
    }

    void clear(PciAddress device) {
        entries.remove(device);
    }

    int present() {
        return entries.size();
    }
}
