package iommu.amdvi;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import iommu.api.PciAddress;

/**
 * The requester ids an IVHD says its devices' DMA arrives with: Linux's
 * {@code amd_iommu_alias_table} (now {@code pci_seg->alias_table}), which
 * {@code init_iommu_from_acpi} fills from the IVHD_DEV_ALIAS (42h) and
 * IVHD_DEV_ALIAS_RANGE (43h) entries: {@code alias_table[devid] = alias}, one
 * level, no chains. A device without an entry is seen with its own id.
 * Immutable.
 */
final class AliasTable {

    private final int segment;
    private final Map<Integer, Integer> aliases;

    AliasTable(int segment, Map<Integer, Integer> aliases) {
        this.segment = segment;
        this.aliases = Map.copyOf(Objects.requireNonNull(aliases, "aliases"));
    }

    /** The requester id the device's DMA arrives with at the unit: its alias, else its own id. */
    int requesterId(int deviceId) {
        return aliases.getOrDefault(deviceId, deviceId);
    }

    /**
     * What {@link iommu.api.spi.IommuUnit#dmaAliases} answers for a device the
     * unit claims: {@code [device]}, or {@code [device, alias]} when the IVHD
     * gives it an alias; the last is the id the unit sees.
     */
    List<PciAddress> dmaAliases(PciAddress device) {
        int id = device.routingId();
        int rid = requesterId(id);
        return rid == id ? List.of(device) : List.of(device, PciAddress.ofRoutingId(segment, rid));
    }

    /** The device ids, other than the id itself, whose DMA arrives with the id, ascending. */
    List<Integer> aliasedTo(int requesterId) {
        List<Integer> from = new ArrayList<>();
        aliases.forEach((device, alias) -> {
            if (alias == requesterId && device != requesterId) {
                from.add(device);
            }
        });
        from.sort(null);
        return from;
    }

    int size() {
        return aliases.size();
    }
}
