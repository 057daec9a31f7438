/**
 * Plain helpers a vendor bundle and the platform share so that one rule is
 * coded once: which unit translates a device when several claim it
 * ({@link iommu.api.spi.support.UnitClaims}, and the incremental
 * {@link iommu.api.spi.support.DeviceIndex} built on it). Classes here are
 * not thread-safe; callers hold their own lock.
 */
@Export
@Version("1.0.0")
package iommu.api.spi.support;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
