package iommu.core;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/**
 * A test unit some of whose devices sit behind a bridge: their DMA reaches
 * the unit with the bridge's alias requester id, which must carry the
 * owner's entry too; the unit translates through the last alias, as the
 * hardware receives the DMA.
 */
public class AliasingUnit extends TestUnit {

    /** device -> the alias requester id the unit finally sees for it. */
    public final Map<PciAddress, PciAddress> aliases = new TreeMap<>();

    public AliasingUnit(String id, int dids, List<String> events) {
        super(id, dids, events);
    }

    /** The devices share one alias: they form one IOMMU group. */
    public AliasingUnit behindBridge(PciAddress alias, PciAddress... devices) {
        for (PciAddress d : devices) {
            aliases.put(d, alias);
        }
        return this;
    }

    @Override
    public List<PciAddress> dmaAliases(PciAddress device) {
        if (!endpoints.contains(device)) {
            return List.of();
        }
        PciAddress alias = aliases.get(device);
        return alias == null || alias.equals(device) ? List.of(device) : List.of(device, alias);
    }

    private boolean isAlias(PciAddress id) {
        return aliases.containsValue(id) && !endpoints.contains(id);
    }

    @Override
    public synchronized void setContext(PciAddress id, DeviceContext context) {
        if (isAlias(id)) {
            contexts.put(id, context);
            events.add(this.id + " set " + id + " did " + context.domainId() + " guest " + context.guest());
            return;
        }
        super.setContext(id, context);
    }

    /** The entry the unit uses for the device's DMA: the one of the requester id it receives. */
    public synchronized Optional<DeviceContext> seenFor(PciAddress device) {
        List<PciAddress> path = dmaAliases(device);
        return context(path.get(path.size() - 1));
    }
}
