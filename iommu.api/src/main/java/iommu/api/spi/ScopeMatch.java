package iommu.api.spi;

/**
 * How a unit claims a device, from weakest to strongest. The platform picks
 * the unit with the strongest claim, as Linux and Xen do: an endpoint scope
 * naming the device, else a bridge scope whose bus range holds it, else the
 * segment's INCLUDE_PCI_ALL unit.
 */
public enum ScopeMatch {
    /** The unit does not translate the device. */
    NONE,
    /** The unit translates every device of its segment that no other unit claims. */
    SEGMENT,
    /** A bridge scope of the unit covers the device's bus. */
    BRIDGE,
    /** An endpoint scope of the unit names the device. */
    ENDPOINT;

    public boolean claims() {
        return this != NONE;
    }
}
