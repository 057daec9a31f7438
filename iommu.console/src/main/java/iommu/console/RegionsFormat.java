package iommu.console;

import iommu.console.dto.RegionDTO;
import iommu.console.dto.RegionsDTO;

/**
 * {@code regions BDF}: one line per reserved range, as
 * {@code /sys/kernel/iommu_groups/N/reserved_regions} prints them (first, last, type).
 */
final class RegionsFormat extends Format<RegionsDTO> {

    RegionsFormat() {
        super(RegionsDTO.class);
    }

    @Override
    String text(RegionsDTO v) {
        StringBuilder sb = new StringBuilder(v.bdf + " on " + v.unit + ": " + v.regions.size()
                + (v.regions.size() == 1 ? " reserved region" : " reserved regions") + " (no guest maps its own pages there"
                + (v.regions.stream().anyMatch(r -> !"msi".equals(r.type))
                        ? "; firmware memory is identity-mapped in the guest holding the device)" : ")"));
        for (RegionDTO r : v.regions) {
            sb.append(String.format("%n0x%016x 0x%016x %s", r.first, r.last, r.type));
        }
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
