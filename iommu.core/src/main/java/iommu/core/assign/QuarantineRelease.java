package iommu.core.assign;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import iommu.api.FlushService;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IommuUnit;

/**
 * Quarantined devices given back to the host. Not thread-safe; called under
 * the component's lock.
 */
final class QuarantineRelease {

    private final Topology topology;
    private final Attachments attachments;
    private final DeviceQuarantine quarantined;
    private final HostDomain host;
    private final FlushService flush;
    private final Recorder recorder;

    QuarantineRelease(Topology topology, Attachments attachments, DeviceQuarantine quarantined, HostDomain host,
            FlushService flush, Recorder recorder) {
        this.topology = topology;
        this.attachments = attachments;
        this.quarantined = quarantined;
        this.host = host;
        this.flush = flush;
        this.recorder = recorder;
    }

    /**
     * Gives quarantined devices back to the host, whole groups, all or none
     * ({@code xl pci-assignable-remove}): their ids get the host domain's
     * entry again (none without a host domain).
     */
    void release(Set<PciAddress> wanted) {
        for (PciAddress device : wanted) {
            if (!quarantined.holds(device)) {
                throw new IommuException(attachments.contains(device) ? "device " + device + " is attached to guest "
                        + attachments.get(device).guest() + ", not quarantined: detach it" : topology.knows(device)
                        ? "device " + device + " is not quarantined: it is the host's already"
                        : "unknown device " + device + ": no IOMMU unit translates it (see iommu:devices)");
            }
            List<PciAddress> missing = topology.group(device).others(device).stream()
                    .filter(m -> !wanted.contains(m)).toList();
            if (!missing.isEmpty()) {
                throw new IommuException("device " + device + " is in IOMMU group " + topology.group(device).number()
                        + " with " + String.join(", ", missing.stream().map(PciAddress::toString).toList())
                        + ": a group is released whole (release --group " + device + ")");
            }
            if (!topology.isPresent(quarantined.devices().get(device))) {
                throw new IommuException("unit " + quarantined.devices().get(device) + " of device " + device
                        + " is not present: its entries cannot be written now");
            }
        }
        UndoLog undo = new UndoLog();
        try {
            for (PciAddress device : wanted) {
                String unitId = quarantined.devices().get(device);
                IommuUnit unit = topology.present(unitId);
                Optional<DeviceContext> back = host.context(unitId);
                if (back.isEmpty()) {
                    continue; // no host domain: a host-owned device has no entry, as it has now
                }
                for (PciAddress id : Groups.aliasesOf(unit, device)) {
                    unit.setContext(id, back.get());
                    undo.push(() -> {
                        unit.clearContext(id);
                        flush.flushDeviceContext(unitId, id, back.get().domainId(), false);
                    });
                    flush.flushDeviceContext(unitId, id, back.get().domainId(), true);
                }
            }
            recorder.released(List.copyOf(wanted));
        } catch (RuntimeException e) {
            undo.rollBack(e);
            throw new IommuException("release failed, nothing changed: " + OneLine.of(e), e);
        }
        quarantined.removeAll(wanted);
    }
}
