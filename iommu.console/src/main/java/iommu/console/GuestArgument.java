package iommu.console;

import iommu.api.GuestId;

/** A guest id typed as an argument: a decimal number 1..32751. */
public final class GuestArgument extends Argument<GuestId> {

    GuestArgument(String typed) {
        super(typed, GuestId::parse);
    }
}
