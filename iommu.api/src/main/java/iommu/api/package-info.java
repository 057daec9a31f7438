/**
 * The vendor-neutral API of the IOMMU domain-id platform: identifiers, the
 * services clients call ({@link iommu.api.DeviceAssignment},
 * {@link iommu.api.DomainIdMap}, {@link iommu.api.FlushService}) and the
 * errors they raise.
 *
 * <p>Services here are implemented by the platform only, so they are
 * {@code @ProviderType}: adding a method is a minor change for their
 * callers. 1.1 added {@link iommu.api.CoreConfiguration} (the core's PID and
 * property names) and the {@link iommu.api.RenumberingListener} whiteboard
 * with its {@link iommu.api.RenumberingProgress}, and
 * {@code DeviceAssignment.groups()}. 1.2 added
 * {@code CoreConfiguration.HOST_DOMAIN}, {@code QUARANTINE} and
 * {@code REBUILD_TABLES}, and {@code DeviceAssignment.release}.
 */
@Export
@Version("1.2.0")
package iommu.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
