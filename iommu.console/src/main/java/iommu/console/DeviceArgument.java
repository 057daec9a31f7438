package iommu.console;

import iommu.api.PciAddress;

/** A PCI address typed as an argument: {@code SSSS:BB:DD.F}, or {@code BB:DD.F} on segment 0. */
public final class DeviceArgument extends Argument<PciAddress> {

    DeviceArgument(String typed) {
        super(typed, PciAddress::parse);
    }
}
