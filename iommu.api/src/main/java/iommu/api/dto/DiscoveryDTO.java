package iommu.api.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** What a discovery found at a path. */
public class DiscoveryDTO extends DTO {
    /** The path read. */
    public String source;
    /** What it was read as, e.g. {@code acpi-dmar}, {@code sysfs}, {@code platform-file}. */
    public String format;
    /** The ids of the units registered, in discovery order. */
    public List<String> units;
    /** How many PCI devices the units translate. */
    public int devices;
    /** One line per problem that did not stop discovery (a malformed unit, an unknown structure). */
    public List<String> warnings;
}
