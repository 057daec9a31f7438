package iommu.vtd;

import java.util.List;
import java.util.Objects;

/**
 * A validated platform description: the VT-d units in firmware order and the
 * PCI inventory. Whatever source it came from (platform file today, DMAR
 * binary or sysfs later), it is complete and consistent before anything is
 * registered from it.
 *
 * @param source where it came from, for messages (a file name, {@code default platform})
 */
public record Platform(String source, List<UnitDefinition> units, PciInventory inventory) {
    public Platform {
        Objects.requireNonNull(source, "source");
        units = List.copyOf(units);
        Objects.requireNonNull(inventory, "inventory");
    }
}
