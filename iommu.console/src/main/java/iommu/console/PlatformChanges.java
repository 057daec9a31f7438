package iommu.console;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import iommu.api.DeviceAssignment;
import iommu.api.IommuException;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.PlatformDiscovery;
import iommu.console.dto.DiscoveredDTO;

/** What adds and removes units at runtime: {@code discover PATH} and {@code forget UNIT}. */
final class PlatformChanges {

    private final IommuCommands c;

    PlatformChanges(IommuCommands commands) {
        this.c = commands;
    }

    DiscoveredDTO discover(Path p) {
        PlatformDiscovery d = c.discoveryFor(p);
        Set<String> before = c.presentUnitIds();
        DiscoveryDTO dto;
        try (Progress progress = Progress.start(c.err.get(), "discovering " + p,
                () -> c.newUnits(before) + " units registered so far")) {
            dto = d.discover(p);
        }
        DiscoveredDTO r = new DiscoveredDTO();
        r.source = dto.source;
        r.format = dto.format;
        r.vendor = d.vendor();
        r.units = dto.units == null ? List.of() : List.copyOf(dto.units);
        r.devices = dto.devices;
        r.warnings = dto.warnings == null ? List.of() : List.copyOf(dto.warnings);
        return r;
    }

    String forget(String unit) {
        DeviceAssignment da = c.requireAssignment();
        UnitDTO u = Matching.unit(da.units(), unit);
        PlatformDiscovery d = c.discoveryServices.get().stream().filter(x -> u.vendor.equals(x.vendor())).findFirst()
                .orElseThrow(() -> new IommuException("cannot forget unit " + u.id + ": no platform discovery of vendor '"
                        + u.vendor + "' is present (expected its vendor bundle to register PlatformDiscovery)"));
        d.forget(u.id);
        return "forgot unit " + u.id + " (" + u.vendor + "): its " + u.devices + " devices are no longer translated";
    }
}
