package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import iommu.api.spi.Invalidation;

/**
 * The device-TLB invalidate descriptor (VT-d 6.5.2.5) and the registers ATS
 * adds, bit by bit, against the layouts Linux encodes in iommu.h
 * ({@code QI_DEV_IOTLB_SID}, {@code _QDEP}, {@code _PFSID}, {@code _ADDR},
 * {@code _SIZE}, {@code qi_flush_dev_iotlb}; {@code DMAR_IQER_REG_*}) and
 * QEMU reads in intel_iommu_internal.h ({@code VTD_INV_DESC_DEVICE_IOTLB_*},
 * {@code vtd_process_device_iotlb_desc}).
 */
class DeviceTlbLayoutTest {

    @Test
    void typeThreeWithSidMipAndThePfsidSplitAcrossBits15to12And63to52() {
        // qi_flush_dev_iotlb(sid 0x1880, pfsid 0x1800, qdep 0x15, addr 0, mask 0)
        var d = QueuedDescriptor.DeviceTlbInvalidate.of(0x1880, 0x1800, 0x15, 0, 0);
        assertThat(d.low() & 0xF).as("type, bits 3:0").isEqualTo(3);
        assertThat(d.low() >>> 32 & 0xFFFF).as("QI_DEV_IOTLB_SID: 47:32").isEqualTo(0x1880);
        assertThat(d.low() >>> 16 & 0x1F).as("QI_DEV_IOTLB_QDEP (MIP): 20:16").isEqualTo(0x15);
        assertThat(d.low() >>> 12 & 0xF).as("PFSID[3:0] at 15:12").isEqualTo(0x0);
        assertThat(d.low() >>> 52 & 0xFFF).as("PFSID[15:4] at 63:52").isEqualTo(0x180);
        assertThat(d.low()).isEqualTo(0x1800_1880_0015_0003L);
        assertThat(d.high()).as("S=0, ADDR 0").isZero();
        assertThat(QueuedDescriptor.DeviceTlbInvalidate.of(0x0001, 0xABCD, 0, 0, 0).low())
                .as("PFSID 0xabcd: d at 15:12, abc at 63:52").isEqualTo(0xABC0_0001_0000_D003L);
        assertThat(QueuedDescriptor.decode(d.low(), d.high())).isEqualTo(d);
        assertThat(d.sourceId()).isEqualTo(0x1880);
        assertThat(d.physicalFunctionSourceId()).isEqualTo(0x1800);
        assertThat(d.maxInvalidationsPending()).isEqualTo(0x15);
        assertThat(d.reservedBitsSet()).isFalse();
    }

    @Test
    void theSizeBitAndTheAddressEncodeTheRangeAsAtsDoes() {
        // S=0: one 4 KiB page at ADDR
        var one = QueuedDescriptor.DeviceTlbInvalidate.of(1, 1, 0, 0x7000, 0);
        assertThat(one.high()).isEqualTo(0x7000L);
        assertThat(one.order()).isZero();
        assertThat(one.firstPage()).isEqualTo(7);
        // order 1 (8 KiB at 0x8000): addr |= (1 << 12) - 1, so ADDR 0x8000, S=1
        var two = QueuedDescriptor.DeviceTlbInvalidate.of(1, 1, 0, 0x8000, 1);
        assertThat(two.high()).isEqualTo(0x8001L);
        assertThat(two.order()).isEqualTo(1);
        assertThat(two.firstPage()).isEqualTo(8);
        // order 4 (64 KiB at 0x10000): ADDR bits 14:12 set, bit 15 clear: 0x17000 | S
        var sixteen = QueuedDescriptor.DeviceTlbInvalidate.of(1, 1, 0, 0x10000, 4);
        assertThat(sixteen.high()).isEqualTo(0x17001L);
        assertThat(sixteen.order()).isEqualTo(4);
        assertThat(sixteen.firstPage()).isEqualTo(0x10);
        // the whole cache, as cache_tag_flush_devtlb_all asks it (MAX_AGAW_PFN_WIDTH): ADDR 62:12 set, 63 clear
        var all = QueuedDescriptor.DeviceTlbInvalidate.of(1, 1, 0, 0, Invalidation.DeviceTlb.ALL);
        assertThat(all.high()).isEqualTo(0x7FFF_FFFF_FFFF_F001L);
        assertThat(all.order()).isEqualTo(Invalidation.DeviceTlb.ALL);
        assertThat(all.firstPage()).isZero();
        // QEMU: sz = (VTD_PAGE_SIZE * 2) << cto64(addr >> 12); addr &= ~(sz - 1)
        var decoded = (QueuedDescriptor.DeviceTlbInvalidate) QueuedDescriptor.decode(3, 0x0000_0000_1234_3001L);
        assertThat(decoded.size()).isTrue();
        assertThat(decoded.order()).as("bits 13:12 set, 14 clear: 2^3 pages").isEqualTo(3);
        assertThat(decoded.firstPage()).isEqualTo(0x12340);
    }

    @Test
    void reservedBitsAreRefused() {
        var d = QueuedDescriptor.DeviceTlbInvalidate.of(0x1880, 0x1800, 0, 0x10000, 0);
        for (int bit : new int[] {4, 8, 9, 11, 21, 31, 48, 51}) {
            assertThat(QueuedDescriptor.decode(d.low() | 1L << bit, d.high()).reservedBitsSet())
                    .as("low bit %d", bit).isTrue();
        }
        for (int bit : new int[] {12, 15, 16, 20, 32, 47, 52, 63}) {
            assertThat(QueuedDescriptor.decode(d.low() | 1L << bit, d.high()).reservedBitsSet())
                    .as("low bit %d is a field", bit).isFalse();
        }
        for (int bit = 1; bit <= 11; bit++) {
            assertThat(QueuedDescriptor.decode(d.low(), d.high() | 1L << bit).reservedBitsSet())
                    .as("high bit %d", bit).isTrue();
        }
        assertThat(QueuedDescriptor.DeviceTlbInvalidate.LOW_RESERVED).isEqualTo(0x000F_0000_FFE0_0FF0L);
        assertThat(QueuedDescriptor.DeviceTlbInvalidate.HIGH_RESERVED).as("VTD_INV_DESC_DEVICE_IOTLB_RSVD_HI")
                .isEqualTo(0xFFEL);
    }

    @Test
    void iqercdHoldsItesidInBits47to32() {
        assertThat(Registers.IQERCD).as("DMAR_IQER_REG").isEqualTo(0xB0);
        long v = Registers.iqercd(0x1880);
        assertThat(v).isEqualTo(0x0000_1880_0000_0000L);
        assertThat(Registers.iqercdItesid(v)).isEqualTo(0x1880);
        assertThat(Registers.iqercdIcesid(0xABCD_0000_0000_0000L)).isEqualTo(0xABCD);
        assertThat(Registers.iqercdIqei(0xFL)).isEqualTo(0xF);
        assertThat(Registers.FSTS_ITE).as("FSTS.ITE, bit 6").isEqualTo(1 << 6);
    }

    @Test
    void aDeviceTlbContextEntryHasTtOneInBits3to2() {
        ContextEntry e = new ContextEntry(true, false, ContextEntry.TT_DEVICE_TLB, 0x40_0000_3000L, 2, 7);
        assertThat(e.low()).isEqualTo(0x40_0000_3005L);
        assertThat(ContextEntry.decode(e.low(), e.high()).translationType()).isEqualTo(1);
        assertThat(FaultReason.TRANSLATION_BLOCKED.code()).isEqualTo(0xD);
    }
}
