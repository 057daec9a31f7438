package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hardware side of an invalidation time-out (VT-d 6.5.2.10), driven
 * through the registers and memory alone: a device-TLB invalidation that its
 * device does not answer raises FSTS.ITE with the device's source id in
 * IQERCD.ITESID, the wait descriptor after it is aborted (no status write),
 * and nothing more is fetched until software clears ITE, the state Linux's
 * {@code qi_check_fault} finds.
 */
class InvalidationTimeoutTest {

    static final long QUEUE = 0x10_0000L;
    static final long STATUS = 0x20_0000L;
    static final int SID = 0x0180;

    PhysicalMemory memory;
    AtsEndpoints endpoints;
    VtdHardware hw;

    @BeforeEach
    void queueEnabled() {
        memory = new PhysicalMemory(52);
        endpoints = new AtsEndpoints(8);
        hw = new VtdHardware(Capability.parse(ModelFixtures.CLIENT_CAP),
                ExtendedCapability.parse(ModelFixtures.ATS_ECAP), VtdUnit.DEFAULT_VERSION, memory, 4, 4, endpoints);
        hw.writeRegister(Registers.IQA, 8, Registers.iqa(QUEUE, 0));
        hw.writeRegister(Registers.GCMD, 4, Registers.GCMD_QIE);
        endpoints.enable(SID, true);
        endpoints.answers(SID, false);
    }

    private void put(int index, QueuedDescriptor d) {
        memory.write64(QUEUE + 16L * index, d.low());
        memory.write64(QUEUE + 16L * index + 8, d.high());
    }

    private QueuedDescriptor wait(int slot) {
        return QueuedDescriptor.InvalidationWait.of(false, true, true, 2, STATUS + 4L * slot);
    }

    @Test
    void anUnansweredDeviceTlbInvalidationAbortsTheWaitAndStopsTheQueue() {
        put(0, QueuedDescriptor.DeviceTlbInvalidate.of(SID, SID, 0, 0, 0));
        put(1, wait(0));
        put(2, wait(1));
        hw.writeRegister(Registers.IQT, 8, 3L << 4);
        assertThat(hw.readRegister(Registers.FSTS, 4) & Registers.FSTS_ITE).isEqualTo(Registers.FSTS_ITE);
        assertThat(Registers.iqercdItesid(hw.readRegister(Registers.IQERCD, 8))).isEqualTo(SID);
        assertThat(hw.readRegister(Registers.IQH, 8) >>> 4).as("past the aborted wait").isEqualTo(2);
        assertThat(memory.read32(STATUS)).as("the aborted wait wrote no status").isZero();
        assertThat(memory.read32(STATUS + 4)).as("nothing fetched while ITE is set").isZero();
        hw.writeRegister(Registers.IQERCD, 8, 0); // read-only
        assertThat(Registers.iqercdItesid(hw.readRegister(Registers.IQERCD, 8))).isEqualTo(SID);

        hw.writeRegister(Registers.FSTS, 4, Registers.FSTS_ITE); // write 1 to clear: the queue resumes
        assertThat(hw.readRegister(Registers.FSTS, 4) & Registers.FSTS_ITE).isZero();
        assertThat(memory.read32(STATUS + 4)).isEqualTo(2);
        assertThat(hw.readRegister(Registers.IQH, 8) >>> 4).isEqualTo(3);
        assertThat(hw.performed()).containsEntry(VtdHardware.DEVICE_TLB, 0L);
    }

    @Test
    void anAnsweredOneDropsTheRangeAndIsCounted() {
        endpoints.answers(SID, true);
        put(0, QueuedDescriptor.DeviceTlbInvalidate.of(SID, SID, 0, 0, 0));
        put(1, wait(0));
        hw.writeRegister(Registers.IQT, 8, 2L << 4);
        assertThat(hw.readRegister(Registers.FSTS, 4)).isZero();
        assertThat(memory.read32(STATUS)).isEqualTo(2);
        assertThat(hw.performed()).containsEntry(VtdHardware.DEVICE_TLB, 1L);
    }

    @Test
    void withoutEcapDtTheDescriptorIsAnInvalidType() {
        hw = new VtdHardware(Capability.parse(ModelFixtures.CLIENT_CAP), ExtendedCapability.parse(ModelFixtures.QI_ECAP),
                VtdUnit.DEFAULT_VERSION, memory, 4, 4, endpoints);
        hw.writeRegister(Registers.IQA, 8, Registers.iqa(QUEUE, 0));
        hw.writeRegister(Registers.GCMD, 4, Registers.GCMD_QIE);
        put(0, QueuedDescriptor.DeviceTlbInvalidate.of(SID, SID, 0, 0, 0));
        hw.writeRegister(Registers.IQT, 8, 1L << 4);
        assertThat(hw.readRegister(Registers.FSTS, 4) & Registers.FSTS_IQE).isEqualTo(Registers.FSTS_IQE);
        assertThat(hw.readRegister(Registers.IQH, 8)).as("IQH stays on the refused descriptor").isZero();
    }
}
