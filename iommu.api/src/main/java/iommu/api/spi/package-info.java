/**
 * The service provider interface: what a vendor bundle ({@link iommu.api.spi.IommuUnit})
 * and an allocation-strategy bundle ({@link iommu.api.spi.AllocationStrategy})
 * implement. Both are written by third parties, so their interfaces are
 * {@code @ConsumerType}: adding an abstract method to them is a major change;
 * 1.1 added three with defaults ({@code IommuUnit.inheritedTables},
 * {@code IommuUnit.mappings}, {@code PlatformDiscovery.keepTablesIn}), which
 * older implementations keep, and the {@code MappedRange} record. 1.2 added
 * two more with defaults ({@code DomainIdAllocator.check}, the strategy's own
 * rules for the audit, and {@code AllocationStrategy.admits}, its answer to
 * the capacity planner) with the {@code UnitLoad} and {@code CapacityEstimate}
 * records, so that neutral bundles never decide by a strategy's name, and
 * {@code IommuUnit.dmaAliases} (the requester ids a device's DMA carries,
 * which make IOMMU groups), with a default of the device alone, and
 * {@code IommuUnit.reservedRegions} with its {@code IovaRegion} (by default
 * the interrupt window). 1.3 added the host domain:
 * {@code IommuUnit.hostTranslation} with {@code HostTranslation} (by default
 * {@code NONE}, no host domain) and {@code DeviceContext}s of the host
 * (guest 0), which a unit is given only when it names a host translation;
 * and, with defaults, {@code IommuUnit.tablesSetAside} and
 * {@code PlatformDiscovery.keepTablesIn(Path, boolean)}: kept tables that are
 * refused set aside, for the platform to rebuild from its journal; and
 * device-TLBs (PCIe ATS): {@code Invalidation.DeviceTlb} and
 * {@code IommuUnit.hasDeviceTlb} and {@code IommuUnit.deviceTlbs}, by
 * default false and empty (a unit whose devices cache no translations).
 */
@Export
@Version("1.3.0")
package iommu.api.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
