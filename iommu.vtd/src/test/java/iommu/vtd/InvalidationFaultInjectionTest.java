package iommu.vtd;

import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.GUEST_2;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.REGISTER_ECAP;
import static iommu.vtd.ModelFixtures.VF1;
import static iommu.vtd.ModelFixtures.VF2;
import static iommu.vtd.ModelFixtures.ctx;
import static iommu.vtd.ModelFixtures.did;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import iommu.api.InvalidationException;
import iommu.api.spi.Invalidation;

/**
 * The hooks issue 4's flush tests use: a unit whose invalidations complete
 * late ({@code holdInvalidations}/{@code releaseInvalidations}) or fail
 * ({@code injectInvalidationErrors}), and what each does to the caches.
 */
class InvalidationFaultInjectionTest {

    static final long PAGE = 0x10_000L;

    /** VF1 in guest 1 under DID 5, its page cached in the context cache and the IOTLB. */
    static VtdUnit attachedAndCached(String ecap) {
        VtdUnit unit = ModelFixtures.unit(CLIENT_CAP, ecap);
        unit.setContext(VF1, ctx(5, GUEST_1));
        unit.map(GUEST_1, PAGE, 0xAAAA_0000L, 1);
        assertThat(unit.translate(VF1, PAGE).hostAddress()).hasValue(0xAAAA_0000L);
        return unit;
    }

    static List<Invalidation> detachFlush() {
        return List.of(new Invalidation.Device(VF1, did(5)), new Invalidation.Domain(did(5)));
    }

    @ParameterizedTest
    @ValueSource(strings = {QI_ECAP, REGISTER_ECAP})
    void aHeldUnitCompletesNothingAndReusingTheIdEarlyWouldLeak(String ecap) {
        VtdUnit unit = attachedAndCached(ecap);
        unit.clearContext(VF1);
        unit.holdInvalidations();
        CompletableFuture<Void> flush = unit.invalidate(detachFlush()).toCompletableFuture();
        assertThat(flush).isNotDone();
        assertThat(unit.pendingInvalidationBatches()).isEqualTo(1);
        assertThat(unit.invalidationCounts()).containsEntry("device", 1L).containsEntry("domain", 1L)
                .containsEntry("performed.context.device", 0L).containsEntry("performed.iotlb.domain", 0L);
        if (ecap.equals(QI_ECAP)) {
            assertThat(unit.readRegister(Registers.IQT, 8)).as("3 descriptors queued")
                    .isEqualTo(unit.readRegister(Registers.IQH, 8) + (3 << 4));
        } else {
            assertThat(unit.readRegister(Registers.CCMD, 8) >>> 63).as("ICC still set").isEqualTo(1);
        }

        // the device is still reaching guest 1's page through the caches
        assertThat(unit.translate(VF1, PAGE).hostAddress()).hasValue(0xAAAA_0000L);
        // a platform that handed DID 5 to guest 2 now would leak guest 1's page to it
        unit.setContext(VF2, ctx(5, GUEST_2));
        unit.map(GUEST_2, PAGE, 0xBBBB_0000L, 1);
        assertThat(unit.translate(VF2, PAGE).hostAddress()).hasValue(0xAAAA_0000L);

        unit.releaseInvalidations();
        assertThat(flush).isCompleted().isNotCompletedExceptionally();
        assertThat(unit.pendingInvalidationBatches()).isZero();
        assertThat(unit.translate(VF1, PAGE).faultReason()).isEqualTo(0x2);
        assertThat(unit.translate(VF2, PAGE).hostAddress()).hasValue(0xBBBB_0000L);
        assertThat(unit.invalidationCounts()).containsEntry("performed.context.device", 1L)
                .containsEntry("performed.iotlb.domain", 1L);
    }

    @Test
    void heldBatchesCompleteInOrderOnRelease() {
        VtdUnit unit = attachedAndCached(QI_ECAP);
        unit.holdInvalidations();
        List<CompletableFuture<Void>> stages = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            CompletableFuture<Void> stage = unit.invalidate(List.of(new Invalidation.Domain(did(10 + i))))
                    .toCompletableFuture();
            stage.thenRun(() -> order.add(n));
            stages.add(stage);
        }
        assertThat(stages).noneMatch(CompletableFuture::isDone);
        assertThat(unit.pendingInvalidationBatches()).isEqualTo(5);
        unit.releaseInvalidations();
        assertThat(stages).allMatch(s -> s.isDone() && !s.isCompletedExceptionally());
        assertThat(order).containsExactly(0, 1, 2, 3, 4);
        assertThat(unit.invalidationCounts()).containsEntry("performed.wait", 5L);
        // released: the next batch completes at once again
        assertThat(unit.invalidate(List.of(new Invalidation.Domain(did(5)))).toCompletableFuture()).isCompleted();
    }

    @Test
    void aWaiterTimesOutWhileHeldAndTheBatchStillCompletesLater() throws Exception {
        VtdUnit unit = attachedAndCached(QI_ECAP);
        unit.holdInvalidations();
        CompletableFuture<Void> flush = unit.invalidate(detachFlush()).toCompletableFuture();
        assertThatThrownBy(() -> flush.get(50, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        unit.releaseInvalidations();
        flush.get(1, TimeUnit.SECONDS);
    }

    @Test
    void anInjectedQueueErrorFailsTheBatchLeavesTheCachesAndTheRetrySucceeds() {
        VtdUnit unit = attachedAndCached(QI_ECAP);
        unit.clearContext(VF1);
        unit.injectInvalidationErrors(1);
        CompletableFuture<Void> flush = unit.invalidate(detachFlush()).toCompletableFuture();
        assertThat(flush).isCompletedExceptionally();
        assertThatThrownBy(flush::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(InvalidationException.class)
                .hasMessageContaining("unit dmar0: the hardware refused invalidation descriptor")
                .hasMessageContaining("(type 1: 0000018000050031 0000000000000000) with FSTS.IQE")
                .hasMessageEndingWith("the rest of the batch was not carried out");
        // the driver cleared IQE and the queue moved past the batch
        assertThat(unit.readRegister(Registers.FSTS, 4) & Registers.FSTS_IQE).isZero();
        assertThat(unit.readRegister(Registers.IQH, 8)).isEqualTo(unit.readRegister(Registers.IQT, 8));
        assertThat(unit.pendingInvalidationBatches()).isZero();
        // nothing of the batch was done: the device still reaches guest 1's page, DID 5 must stay out of use
        assertThat(unit.translate(VF1, PAGE).hostAddress()).hasValue(0xAAAA_0000L);
        assertThat(unit.invalidationCounts()).containsEntry("performed.context.device", 0L)
                .containsEntry("performed.iotlb.domain", 0L).containsEntry("performed.wait", 1L);

        CompletableFuture<Void> retry = unit.invalidate(detachFlush()).toCompletableFuture();
        assertThat(retry).isCompleted().isNotCompletedExceptionally();
        assertThat(unit.translate(VF1, PAGE).faultReason()).isEqualTo(0x2);
        assertThat(unit.iotlbEntries()).isZero();
    }

    @Test
    void anErrorFailsOnlyItsOwnBatch() {
        VtdUnit unit = attachedAndCached(QI_ECAP);
        unit.holdInvalidations();
        CompletableFuture<Void> first = unit.invalidate(List.of(new Invalidation.Domain(did(7)))).toCompletableFuture();
        CompletableFuture<Void> second = unit.invalidate(List.of(new Invalidation.Domain(did(5)))).toCompletableFuture();
        unit.injectInvalidationErrors(1);
        unit.releaseInvalidations();
        assertThat(first).isCompletedExceptionally();
        assertThat(second).isCompleted().isNotCompletedExceptionally();
        assertThat(unit.iotlbEntries()).as("DID 5's entry went with the second batch").isZero();
    }

    @Test
    void anInjectedRegisterErrorReportsTheGranularityAsZero() {
        VtdUnit unit = attachedAndCached(REGISTER_ECAP);
        unit.clearContext(VF1);
        unit.injectInvalidationErrors(1);
        CompletableFuture<Void> flush = unit.invalidate(detachFlush()).toCompletableFuture();
        assertThat(flush).isCompletedExceptionally();
        assertThatThrownBy(flush::join).cause().isInstanceOf(InvalidationException.class)
                .hasMessage("unit dmar0: context-cache invalidation (CCMD 0x6000000001800005) ignored by the"
                        + " hardware: CAIG 0");
        assertThat(unit.translate(VF1, PAGE).hostAddress()).as("neither invalidation happened")
                .hasValue(0xAAAA_0000L);
        assertThat(unit.invalidate(detachFlush()).toCompletableFuture()).isCompleted().isNotCompletedExceptionally();
        assertThat(unit.translate(VF1, PAGE).faultReason()).isEqualTo(0x2);
    }

    @Test
    void aQueueFullOfHeldBatchesRefusesMore() {
        VtdUnit unit = attachedAndCached(QI_ECAP);
        unit.holdInvalidations();
        List<CompletableFuture<Void>> stages = new ArrayList<>();
        for (int i = 0; i < 90; i++) { // 3 descriptors each: 255 fit in a queue of 256
            stages.add(unit.invalidate(detachFlush()).toCompletableFuture());
        }
        assertThat(stages.subList(0, 85)).noneMatch(CompletableFuture::isDone);
        assertThat(stages.subList(85, 90)).allMatch(CompletableFuture::isCompletedExceptionally);
        assertThatThrownBy(stages.get(89)::join).cause()
                .hasMessage("unit dmar0: invalidation queue full: 255 of 256 descriptors wait for the hardware,"
                        + " 3 more needed");
        unit.releaseInvalidations();
        assertThat(stages.subList(0, 85)).allMatch(s -> s.isDone() && !s.isCompletedExceptionally());
    }
}
