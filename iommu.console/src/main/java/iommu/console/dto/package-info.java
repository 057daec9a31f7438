/**
 * What the console's commands return where the platform's API has no DTO:
 * plain public fields, as OSGi DTOs are, so that Gogo scripts read them
 * ({@code g = guest 1; $g dids}). As in {@code iommu.api.dto}, field names
 * and their order are the JSON field names and order; {@link Address} fields
 * print as {@code "0x..."}. Private to the console (not exported).
 */
package iommu.console.dto;
