package iommu.console.dto;

import org.osgi.dto.DTO;

/** What one strategy admits and how it got there. */
public class AdmitsDTO extends DTO {
    public String strategy;
    public long admits;
    public String model;
}
