package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** {@code discover PATH}: what a discovery registered. */
public class DiscoveredDTO extends DTO {
    public String source;
    public String format;
    public String vendor;
    public List<String> units;
    public int devices;
    public List<String> warnings;
}
