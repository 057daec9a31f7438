package iommu.amdvi;

/** How AMD-Vi messages write a 16-bit requester (device) id: {@code BB:DD.F}, or with its segment. */
final class Bdf {

    private Bdf() {
    }

    static String of(int deviceId) {
        return String.format("%02x:%02x.%x", deviceId >>> 8 & 0xFF, deviceId >>> 3 & 0x1F, deviceId & 7);
    }

    static String of(int segment, int deviceId) {
        return String.format("%04x:%s", segment, of(deviceId));
    }
}
