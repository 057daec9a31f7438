/**
 * Plain helpers a vendor bundle and the platform share so that one rule is
 * coded once: which unit translates a device when several claim it
 * ({@link iommu.api.spi.support.UnitClaims}, and the incremental
 * {@link iommu.api.spi.support.DeviceIndex} built on it). Classes here are
 * not thread-safe, callers hold their own lock, except 1.1's
 * {@link iommu.api.spi.support.StateDirectoryLock} (one writer of a state
 * directory, shared by the components of one framework), which is; 1.1 also
 * added {@link iommu.api.spi.support.WriteFailure} (how a failed write there
 * is told).
 */
@Export
@Version("1.1.0")
package iommu.api.spi.support;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
