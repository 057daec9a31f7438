package iommu.vtd;

import static iommu.vtd.Capability.bit;
import static iommu.vtd.Capability.bits;

/**
 * The VT-d extended capability register (ECAP, offset 0x10).
 *
 * @param raw the 64-bit register value
 * @param coherency page-walk coherency, bit 0
 * @param queuedInvalidation queued invalidation supported, bit 1
 * @param deviceTlb device-TLB (ATS) supported, bit 2
 * @param interruptRemapping interrupt remapping, bit 3
 * @param extendedInterruptMode x2APIC extended interrupt mode, bit 4
 * @param passThrough pass-through translation type, bit 6
 * @param snoopControl snoop control, bit 7
 * @param iotlbRegisterOffset byte offset of the IVA register (the IOTLB register follows at +8): bits 17:8 times 16
 */
public record ExtendedCapability(long raw, boolean coherency, boolean queuedInvalidation, boolean deviceTlb,
        boolean interruptRemapping, boolean extendedInterruptMode, boolean passThrough, boolean snoopControl,
        int iotlbRegisterOffset) {

    public static ExtendedCapability decode(long raw) {
        return new ExtendedCapability(raw,
                bit(raw, 0),
                bit(raw, 1),
                bit(raw, 2),
                bit(raw, 3),
                bit(raw, 4),
                bit(raw, 6),
                bit(raw, 7),
                (int) bits(raw, 17, 8) * 16);
    }

    /** Parses the hexadecimal text sysfs shows ({@code f050da}, 0x optional) and decodes it. */
    public static ExtendedCapability parse(String hex) {
        return decode(Numbers.hex64("ECAP", hex));
    }

    @Override
    public String toString() {
        return Long.toHexString(raw);
    }
}
