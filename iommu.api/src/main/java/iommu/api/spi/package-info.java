/**
 * The service provider interface: what a vendor bundle ({@link iommu.api.spi.IommuUnit})
 * and an allocation-strategy bundle ({@link iommu.api.spi.AllocationStrategy})
 * implement. Both are written by third parties, so their interfaces are
 * {@code @ConsumerType}: adding a method to them is a major change.
 */
@Export
@Version("1.0.0")
package iommu.api.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
