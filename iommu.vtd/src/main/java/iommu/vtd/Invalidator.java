package iommu.vtd;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The driver side of one invalidation mechanism of a unit: the invalidation
 * queue ({@link InvalidationQueue}) or the CCMD/IOTLB registers
 * ({@link RegisterInvalidator}). Requests are the VT-d-level context-cache
 * and IOTLB invalidations, carried in their descriptor form. Not
 * thread-safe: the unit guards it.
 */
interface Invalidator {

    /**
     * Hands one batch to the hardware; {@code done} completes (through
     * {@link #poll}) when every request of it completed, or exceptionally when
     * the hardware reported an error.
     */
    void submit(List<QueuedDescriptor> requests, CompletableFuture<Void> done);

    /**
     * Looks at what the hardware finished, handles reported errors, and adds
     * the completions of finished batches to {@code completions}, to be run
     * by the caller outside the unit's lock.
     */
    void poll(List<Runnable> completions);

    /** Batches handed over and not finished yet. */
    int pendingBatches();

    /** {@code queued} or {@code register}. */
    String mechanism();
}
