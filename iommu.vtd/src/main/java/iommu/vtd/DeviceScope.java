package iommu.vtd;

import java.util.Objects;

import iommu.api.PciAddress;

/**
 * One device scope of a DRHD: an endpoint it names, or a bridge whose
 * secondary..subordinate bus range (the whole sub-hierarchy) it covers.
 * Written {@code endpoint SSSS:BB:DD.F} or {@code bridge SSSS:BB:DD.F SS-EE}.
 */
public record DeviceScope(Type type, PciAddress address, int secondary, int subordinate) {

    public enum Type {
        ENDPOINT, BRIDGE
    }

    public DeviceScope {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(address, "address");
        if (type == Type.BRIDGE) {
            PciInventory.checkBusRange(address, secondary, subordinate);
        }
    }

    public static DeviceScope endpoint(PciAddress address) {
        return new DeviceScope(Type.ENDPOINT, address, 0, 0);
    }

    public static DeviceScope bridge(PciAddress address, int secondary, int subordinate) {
        return new DeviceScope(Type.BRIDGE, address, secondary, subordinate);
    }

    /**
     * Parses {@code endpoint BDF} or {@code bridge BDF SS-EE} (bus numbers in
     * hexadecimal).
     */
    public static DeviceScope parse(String text) {
        String[] words = text == null ? new String[0] : text.trim().split("\\s+");
        if (words.length == 0 || words[0].isEmpty()) {
            throw new IllegalArgumentException("empty device scope: expected 'endpoint SSSS:BB:DD.F'"
                    + " or 'bridge SSSS:BB:DD.F SS-EE'");
        }
        switch (words[0]) {
            case "endpoint":
                if (words.length != 2) {
                    throw new IllegalArgumentException("endpoint scope '" + text.trim()
                            + "' has " + (words.length - 1) + " arguments: expected 'endpoint SSSS:BB:DD.F'");
                }
                return endpoint(PciAddress.parse(words[1]));
            case "bridge":
                if (words.length != 3) {
                    throw new IllegalArgumentException("bridge scope '" + text.trim()
                            + "' has " + (words.length - 1) + " arguments: expected 'bridge SSSS:BB:DD.F SS-EE'");
                }
                PciAddress bridge = PciAddress.parse(words[1]);
                int[] range = Numbers.busRange("bus range of bridge " + bridge, words[2]);
                return bridge(bridge, range[0], range[1]);
            default:
                throw new IllegalArgumentException("unknown device scope type '" + words[0]
                        + "': expected 'endpoint SSSS:BB:DD.F' or 'bridge SSSS:BB:DD.F SS-EE'");
        }
    }

    /** Whether the scope takes in the device: the named endpoint, or any device on a bus of the bridge's range. */
    public boolean covers(PciAddress device) {
        return switch (type) {
            case ENDPOINT -> address.equals(device);
            case BRIDGE -> device.segment() == address.segment()
                    && device.bus() >= secondary && device.bus() <= subordinate;
        };
    }

    @Override
    public String toString() {
        return type == Type.ENDPOINT
                ? "endpoint " + address
                : String.format("bridge %s %02x-%02x", address, secondary, subordinate);
    }
}
