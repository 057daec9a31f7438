package iommu.amdvi;

/**
 * One 128-bit entry of the AMD-Vi event log (AMD IOMMU specification 48882,
 * "Event Log"; Linux {@code iommu_print_event}): DeviceID in dword0 15:0,
 * PASID 19:16 in dword0 19:16, DomainID or PASID 15:0 in dword1 15:0, flags
 * in dword1 27:16, the event code in dword1 31:28, the address in dwords 2-3.
 */
record Event(int code, int deviceId, int domainId, int flags, long address) {

    static final int ILLEGAL_DEV_TABLE_ENTRY = 0x1;
    static final int IO_PAGE_FAULT = 0x2;
    static final int DEV_TAB_HARDWARE_ERROR = 0x3;
    static final int PAGE_TAB_HARDWARE_ERROR = 0x4;
    static final int ILLEGAL_COMMAND_ERROR = 0x5;
    static final int COMMAND_HARDWARE_ERROR = 0x6;
    static final int IOTLB_INV_TIMEOUT = 0x7;
    static final int INVALID_DEVICE_REQUEST = 0x8;

    /** IO_PAGE_FAULT flags (dword1 27:16). */
    static final int FLAG_GN = 0x001;
    static final int FLAG_NX = 0x002;
    static final int FLAG_US = 0x004;
    static final int FLAG_I = 0x008;
    static final int FLAG_PR = 0x010;
    static final int FLAG_RW = 0x020;
    static final int FLAG_PE = 0x040;
    static final int FLAG_RZ = 0x080;
    static final int FLAG_TR = 0x100;

    static final int SIZE = 16;

    long[] encode() {
        long d0 = deviceId & 0xFFFF;
        long d1 = (domainId & 0xFFFF) | (long) (flags & 0xFFF) << 16 | (long) (code & 0xF) << 28;
        return new long[] {d0 | d1 << 32, address};
    }

    static Event decode(long lo, long hi) {
        long d1 = lo >>> 32;
        return new Event((int) (d1 >>> 28) & 0xF, (int) lo & 0xFFFF, (int) d1 & 0xFFFF, (int) (d1 >>> 16) & 0xFFF,
                hi);
    }

    static String name(int code) {
        return switch (code) {
            case ILLEGAL_DEV_TABLE_ENTRY -> "ILLEGAL_DEV_TABLE_ENTRY";
            case IO_PAGE_FAULT -> "IO_PAGE_FAULT";
            case DEV_TAB_HARDWARE_ERROR -> "DEV_TAB_HARDWARE_ERROR";
            case PAGE_TAB_HARDWARE_ERROR -> "PAGE_TAB_HARDWARE_ERROR";
            case ILLEGAL_COMMAND_ERROR -> "ILLEGAL_COMMAND_ERROR";
            case COMMAND_HARDWARE_ERROR -> "COMMAND_HARDWARE_ERROR";
            case IOTLB_INV_TIMEOUT -> "IOTLB_INV_TIMEOUT";
            case INVALID_DEVICE_REQUEST -> "INVALID_DEVICE_REQUEST";
            default -> String.format("EVENT_%X", code);
        };
    }

    /** As Linux logs it: {@code Event logged [IO_PAGE_FAULT device=0000:41:00.0 domain=0x0001 address=0x1000 flags=0x0000]}. */
    String describe(int segment) {
        String who = code == ILLEGAL_COMMAND_ERROR || code == COMMAND_HARDWARE_ERROR ? ""
                : " device=" + Bdf.of(segment, deviceId) + (code == IO_PAGE_FAULT ? String.format(" domain=0x%04x",
                        domainId) : String.format(" pasid=0x%05x", domainId));
        return String.format("Event logged [%s%s address=0x%x flags=0x%04x]", name(code), who, address, flags);
    }
}
