/**
 * Data transfer objects returned by the platform's services: plain public
 * fields, as OSGi DTOs are, so the console can print them as tables or JSON
 * and scripts can read them. Field names are the JSON field names; a field
 * marked {@link iommu.api.dto.Address} is written as a {@code "0x..."} string
 * (1.1 added that annotation, {@link iommu.api.dto.GroupDTO} and
 * {@code DeviceDTO.group}; 1.2 added {@code UnitDTO.hostDomainId}, {@code DeviceDTO.quarantined},
 * {@code GroupDTO.quarantined}, {@code StateDTO.rebuilt} and
 * {@code DeviceDTO.ats}).
 */
@Export
@Version("1.2.0")
package iommu.api.dto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
