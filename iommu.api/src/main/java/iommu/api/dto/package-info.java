/**
 * Data transfer objects returned by the platform's services: plain public
 * fields, as OSGi DTOs are, so the console can print them as tables or JSON
 * and scripts can read them. Field names are the JSON field names.
 */
@Export
@Version("1.0.0")
package iommu.api.dto;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
