package iommu.vtd;

import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.IVB_CAP;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.REGISTER_ECAP;
import static iommu.vtd.ModelFixtures.VF1;
import static iommu.vtd.ModelFixtures.ctx;
import static iommu.vtd.ModelFixtures.did;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.InvalidationException;
import iommu.api.spi.Invalidation;

/** Register reads and writes behave as the VT-d specification (chapter 11) says. */
class RegisterSemanticsTest {

    static final int IVA = 0x500;
    static final int IOTLB = 0x508;

    @Test
    void identificationRegistersAreReadOnly() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        assertThat(unit.readRegister(Registers.VER, 4)).isEqualTo(0x10);
        assertThat(unit.readRegister(Registers.CAP, 8)).isEqualTo(0xd2008c40660462L);
        assertThat(unit.readRegister(Registers.CAP, 4)).isEqualTo(0x40660462L);
        assertThat(unit.readRegister(Registers.CAP + 4, 4)).isEqualTo(0xd2008cL);
        assertThat(unit.readRegister(Registers.ECAP, 8)).isEqualTo(0xf050daL);
        unit.writeRegister(Registers.CAP, 8, 0);
        unit.writeRegister(Registers.VER, 4, 0x60);
        assertThat(unit.readRegister(Registers.CAP, 8)).isEqualTo(0xd2008c40660462L);
        assertThat(unit.readRegister(Registers.VER, 4)).isEqualTo(0x10);
        assertThat(unit.readRegister(0xF00, 8)).as("reserved offset").isZero();
    }

    @Test
    void refusesAccessesTheHardwareDoesNot() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        assertThatThrownBy(() -> unit.readRegister(Registers.GCMD, 8))
                .hasMessage("register 0x18 is 32 bits wide: expected a 4-byte access");
        assertThatThrownBy(() -> unit.writeRegister(Registers.GSTS, 8, 0))
                .hasMessage("register offset 0x1c: expected a non-negative offset aligned to the 8-byte access");
        assertThatThrownBy(() -> unit.readRegister(Registers.CAP + 2, 4))
                .hasMessage("register offset 0xa: expected a non-negative offset aligned to the 4-byte access");
        assertThatThrownBy(() -> unit.readRegister(Registers.CAP, 2))
                .hasMessage("register access of 2 bytes: expected 4 or 8");
    }

    @Test
    void bringUpLeavesTranslationAndQueuedInvalidationEnabled() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        long gsts = unit.readRegister(Registers.GSTS, 4);
        assertThat(gsts).isEqualTo((Registers.GSTS_TES | Registers.GSTS_RTPS | Registers.GSTS_QIES) & 0xFFFF_FFFFL);
        assertThat(unit.readRegister(Registers.GCMD, 4)).as("GCMD is write-only").isZero();
        assertThat(unit.readRegister(Registers.RTADDR, 8)).isEqualTo(VtdUnit.TABLE_REGION);

        VtdUnit registerBased = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP);
        assertThat(registerBased.readRegister(Registers.GSTS, 4))
                .isEqualTo((Registers.GSTS_TES | Registers.GSTS_RTPS) & 0xFFFF_FFFFL);
    }

    @Test
    void gcmdPersistentBitsBecomeGstsAndOneShotsAct() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP);
        int te = Registers.GCMD_TE;
        // a write without TE turns translation off: software writes the persistent bits back each time
        unit.writeRegister(Registers.GCMD, 4, 0);
        assertThat(unit.readRegister(Registers.GSTS, 4) & te).isZero();
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_RTPS).as("RTPS stays").isNotZero();
        // translation off: DMA passes untranslated
        assertThat(unit.translate(VF1, 0x1234_5000L).hostAddress()).hasValue(0x1234_5000L);
        unit.writeRegister(Registers.GCMD, 4, te & 0xFFFF_FFFFL);
        assertThat(unit.readRegister(Registers.GSTS, 4) & te).isNotZero();
        // QIE on a unit without ECAP.QI is ignored; IRE with ECAP.IR sets IRES
        unit.writeRegister(Registers.GCMD, 4, (te | Registers.GCMD_QIE | Registers.GCMD_IRE) & 0xFFFF_FFFFL);
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_QIES).isZero();
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_IRES).isNotZero();
        // WBF: done at once, WBFS reads clear
        unit.writeRegister(Registers.GCMD, 4, (te | Registers.GCMD_WBF) & 0xFFFF_FFFFL);
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_WBFS).isZero();
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_IRES).as("IRE not written back: off")
                .isZero();
    }

    @Test
    void srtpLatchesRtaddrAndTheContextCacheKeepsWhatItHeldUntilInvalidated() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, 0x1000, 0xa000, 1);
        assertThat(unit.translate(VF1, 0x1000).hostAddress()).hasValue(0xa000L); // context cached
        long oldRoot = unit.readRegister(Registers.RTADDR, 8);

        // point RTADDR at an empty page: without SRTP nothing changes
        long empty = oldRoot + 0x100_0000L;
        unit.writeRegister(Registers.RTADDR, 8, empty);
        assertThat(unit.readRegister(Registers.RTADDR, 8)).isEqualTo(empty);
        unit.invalidate(List.of(new Invalidation.Global())).toCompletableFuture().join();
        assertThat(unit.translate(VF1, 0x1000).hostAddress()).as("still the latched root").hasValue(0xa000L);

        // SRTP latches it; the context cache still holds VF1's entry from the old table
        unit.writeRegister(Registers.GCMD, 4, (Registers.GCMD_TE | Registers.GCMD_QIE | Registers.GCMD_SRTP)
                & 0xFFFF_FFFFL);
        assertThat(unit.readRegister(Registers.GSTS, 4) & Registers.GSTS_RTPS).isNotZero();
        assertThat(unit.translate(VF1, 0x1000).hostAddress()).as("cached context").hasValue(0xa000L);
        unit.invalidate(List.of(new Invalidation.Global())).toCompletableFuture().join();
        assertThat(unit.translate(VF1, 0x1000).faultReason()).as("the new root table is empty").isEqualTo(0x1);

        unit.writeRegister(Registers.RTADDR, 8, oldRoot);
        unit.writeRegister(Registers.GCMD, 4, (Registers.GCMD_TE | Registers.GCMD_QIE | Registers.GCMD_SRTP)
                & 0xFFFF_FFFFL);
        assertThat(unit.translate(VF1, 0x1000).hostAddress()).hasValue(0xa000L);
    }

    @Test
    void ccmdIccClearsWhenDoneAndReportsTheActualGranularity() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP);
        unit.writeRegister(Registers.CCMD, 8, Registers.ccmd(2, 0, 0, 7));
        assertThat(unit.readRegister(Registers.CCMD, 8)).isEqualTo(0x5000_0000_0000_0007L); // CIRG 2, CAIG 2
        // while the hardware is held, ICC stays set
        unit.holdInvalidations();
        unit.writeRegister(Registers.CCMD, 8, Registers.ccmd(1, 0, 0, 0));
        assertThat(unit.readRegister(Registers.CCMD, 8) >>> 63).isEqualTo(1);
        unit.releaseInvalidations();
        assertThat(unit.readRegister(Registers.CCMD, 8)).isEqualTo(0x2800_0000_0000_0000L); // CIRG 1, CAIG 1
        // CIRG 0 is not a granularity: ignored, CAIG 0
        unit.writeRegister(Registers.CCMD, 8, Registers.ccmd(0, 0, 0, 0));
        assertThat(unit.readRegister(Registers.CCMD, 8)).isZero();
        // a 32-bit write to the low half does not start a command
        unit.writeRegister(Registers.CCMD, 4, 0x0180_0005L);
        assertThat(unit.readRegister(Registers.CCMD, 8)).isEqualTo(0x0180_0005L);
        unit.writeRegister(Registers.CCMD + 4, 4, 0xE000_0000L); // ICC | CIRG 3 in the high half: starts it
        assertThat(unit.readRegister(Registers.CCMD, 8)).isEqualTo(0x7800_0000_0180_0005L);
        assertThat(unit.invalidationCounts()).containsEntry("performed.context.domain", 1L)
                .containsEntry("performed.context.global", 1L).containsEntry("performed.context.device", 1L);
    }

    @Test
    void iotlbIvtClearsAndIaigTellsWhatWasDone() {
        VtdUnit psi = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP);
        psi.writeRegister(IVA, 8, Registers.iva(0x40_0000L, false, 19)); // AM 19 > MAMV 18
        psi.writeRegister(IOTLB, 8, Registers.iotlbCommand(3, false, false, 5));
        assertThat(psi.readRegister(IOTLB, 8)).as("refused: IAIG 0").isEqualTo(0x3000_0005_0000_0000L);
        psi.writeRegister(IVA, 8, Registers.iva(0x40_0000L, false, 18));
        psi.writeRegister(IOTLB, 8, Registers.iotlbCommand(3, false, false, 5));
        assertThat(psi.readRegister(IOTLB, 8)).isEqualTo(0x3600_0005_0000_0000L);

        // no CAP.PSI: the hardware invalidates the whole domain and says so (IAIG 2)
        VtdUnit noPsi = ModelFixtures.unit(IVB_CAP, "f01018"); // Ivy Bridge ECAP without QI
        assertThat(noPsi.invalidationMechanism()).isEqualTo("register");
        noPsi.writeRegister(0x100, 8, Registers.iva(0x40_0000L, false, 0)); // IRO 0x100
        noPsi.writeRegister(0x108, 8, Registers.iotlbCommand(3, false, false, 5));
        assertThat(noPsi.readRegister(0x108, 8)).isEqualTo(0x3400_0005_0000_0000L);
        assertThat(noPsi.invalidationCounts()).containsEntry("performed.iotlb.domain", 1L)
                .containsEntry("performed.iotlb.page", 0L);
    }

    @Test
    void aQueuedUnitIgnoresRegisterInvalidationWhileQiIsEnabled() {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, QI_ECAP);
        unit.writeRegister(Registers.CCMD, 8, Registers.ccmd(1, 0, 0, 0));
        assertThat(Registers.ccmdCaig(unit.readRegister(Registers.CCMD, 8))).isZero();
        assertThat(unit.invalidationCounts()).containsEntry("performed.context.global", 0L);
    }

    @Test
    void versionSixHasNoRegisterInvalidation() {
        VtdUnit queued = ModelFixtures.unit(CLIENT_CAP, QI_ECAP, Registers.version(6, 0));
        assertThat(queued.readRegister(Registers.VER, 4)).isEqualTo(0x60);
        queued.writeRegister(Registers.CCMD, 8, Registers.ccmd(1, 0, 0, 0));
        assertThat(queued.readRegister(Registers.CCMD, 8)).as("CCMD does not exist").isZero();
        assertThat(queued.readRegister(IOTLB, 8)).isZero();
        assertThat(queued.invalidationMechanism()).isEqualTo("queued");
        assertThat(queued.invalidate(List.of(new Invalidation.Domain(did(3)))).toCompletableFuture()).isCompleted();

        VtdUnit none = ModelFixtures.unit(CLIENT_CAP, REGISTER_ECAP, Registers.version(6, 0));
        assertThat(none.invalidationMechanism()).isEqualTo("none");
        var stage = none.invalidate(List.of(new Invalidation.Domain(did(3)))).toCompletableFuture();
        assertThat(stage).isCompletedExceptionally();
        assertThatThrownBy(stage::join).hasCauseInstanceOf(InvalidationException.class).hasMessageContaining(
                "unit dmar0: VT-d version 6.0 has no register-based invalidation and ECAP.QI is clear: it cannot invalidate");
    }

    @Test
    void fstsAndFaultRecordsAreWriteOneToClear() {
        VtdUnit unit = ModelFixtures.unit(ModelFixtures.SERVER_CAP, QI_ECAP); // NFR 8, FRO 0x100
        unit.translate(VF1, 0x1000); // root entry not present
        unit.translate(VF1, 0x2000, true);
        long fsts = unit.readRegister(Registers.FSTS, 4);
        assertThat(fsts).as("PPF, FRI 0").isEqualTo(0x2);
        long high0 = unit.readRegister(0x108, 8);
        assertThat(high0).isEqualTo(0xC000_0001_0000_0180L); // F, T=read, reason 1, SID 0x0180
        assertThat(unit.readRegister(0x100, 8)).isEqualTo(0x1000L);
        assertThat(unit.readRegister(0x118, 8)).isEqualTo(0x8000_0001_0000_0180L); // a write: T 0
        assertThat(unit.readRegister(0x110, 8)).isEqualTo(0x2000L);
        assertThat(unit.readRegister(0x10C, 4)).as("Linux reads the dword at +12").isEqualTo(0xC000_0001L);

        unit.writeRegister(0x108, 8, 0x7FFF_FFFF_FFFF_FFFFL); // no F bit: nothing clears
        assertThat(unit.readRegister(0x108, 8) >>> 63).isEqualTo(1);
        unit.writeRegister(0x10C, 4, 0x8000_0000L); // F, as Linux clears it
        assertThat(unit.readRegister(0x108, 8) >>> 63).isZero();
        assertThat(unit.readRegister(Registers.FSTS, 4)).as("record 1 still pending: PPF, FRI stays 0").isEqualTo(0x2);
        unit.writeRegister(0x118, 8, Registers.FRCD_F);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isZero();

        // the index restarted at 0 once nothing was pending
        unit.translate(VF1, 0x3000);
        assertThat(unit.readRegister(0x100, 8)).isEqualTo(0x3000L);
        assertThat(unit.readRegister(Registers.FSTS, 4)).isEqualTo(0x2);
        unit.writeRegister(Registers.FSTS, 4, 0x2); // PPF is read-only
        assertThat(unit.readRegister(Registers.FSTS, 4)).isEqualTo(0x2);
    }

    @Test
    void registerMappingOfTheFaultRecordsFollowsCapFro() {
        VtdUnit client = ModelFixtures.unit(CLIENT_CAP, QI_ECAP); // FRO 0x400, NFR 1
        client.translate(VF1, 0x5000);
        assertThat(client.readRegister(0x400, 8)).isEqualTo(0x5000L);
        assertThat(client.readRegister(0x410, 8)).as("beyond NFR: reserved").isZero();
        assertThat(client.context(VF1)).isEmpty();
    }
}
