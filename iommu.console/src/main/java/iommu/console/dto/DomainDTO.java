package iommu.console.dto;

import java.util.List;

import org.osgi.dto.DTO;

/** One domain id of a unit, the guest holding it and that guest's devices there. */
public class DomainDTO extends DTO {
    public int did;
    public int guest;
    /** BDFs. */
    public List<String> devices;
}
