package iommu.vtd;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import iommu.api.InvalidationException;

/**
 * The driver side of queued invalidation (as Linux's {@code qi_submit_sync}
 * does it, without spinning): a one-page queue of 256 128-bit descriptors in
 * simulated memory at IQA, a status page with one 32-bit slot per queue
 * index. A batch is its descriptors followed by one invalidation-wait
 * descriptor (status write and fence, status data QI_DONE, the slot of the
 * wait's index as status address); the tail moves once per batch. A batch is
 * done when its slot reads QI_DONE.
 *
 * <p>On FSTS.IQE the hardware stops with IQH on the descriptor it refused.
 * The batch holding it fails: its descriptors from the refused one up to its
 * wait are overwritten with no-op fences, IQE is cleared, and the queue
 * resumes, so the wait still writes its status and later batches proceed
 * (Linux overwrites the refused descriptor likewise). What the failed batch
 * did not do stays undone: its caller must treat the domain ids as still
 * cached.
 *
 * <p>On FSTS.ITE (a device did not answer a device-TLB invalidation) the
 * hardware has aborted the wait of the batch that held it and stopped
 * fetching; the driver does what Linux's {@code qi_check_fault} does: reads
 * the device's source id from IQERCD.ITESID, clears ITE (the queue resumes)
 * and fails the batch whose wait was aborted, naming the device. Linux then
 * gives up with {@code -ETIMEDOUT} when the device is gone and resubmits
 * ({@code -EAGAIN}) while it is present; a device that never answers would
 * make that a loop, so here the batch fails at once: what it protected must
 * stay out of use, as for IQE.
 */
final class InvalidationQueue implements Invalidator {

    static final int QI_FREE = 0;
    static final int QI_IN_USE = 1;
    static final int QI_DONE = 2;
    /** Queue size: 2^QS_PAGES 4 KiB pages. */
    static final int QS = 0;

    private static final class Batch {
        final int first;
        final int waitIndex;
        final CompletableFuture<Void> done;
        String error;

        Batch(int first, int waitIndex, CompletableFuture<Void> done) {
            this.first = first;
            this.waitIndex = waitIndex;
            this.done = done;
        }
    }

    private final String unitId;
    private final VtdHardware hardware;
    private final PhysicalMemory memory;
    private final long queue;
    private final long status;
    private final int entries = Registers.queueEntries(QS);
    private final Deque<Batch> pending = new ArrayDeque<>();
    private int tail;

    /** Allocates the queue and its status page and points IQA at them; GCMD.QIE is the caller's to set. */
    InvalidationQueue(String unitId, VtdHardware hardware, PhysicalMemory memory, PageAllocator pages) {
        this.unitId = unitId;
        this.hardware = hardware;
        this.memory = memory;
        this.queue = pages.allocate();
        this.status = pages.allocate();
        hardware.writeRegister(Registers.IQT, 8, 0);
        hardware.writeRegister(Registers.IQA, 8, Registers.iqa(queue, QS));
    }

    long queueAddress() {
        return queue;
    }

    long statusAddress(int index) {
        return status + 4L * index;
    }

    @Override
    public String mechanism() {
        return "queued";
    }

    @Override
    public void submit(List<QueuedDescriptor> requests, CompletableFuture<Void> done) {
        // A batch larger than a quarter of the queue goes as several submissions, each with its
        // own wait descriptor, as Linux's qi_submit_sync does with more requests than fit.
        int chunk = Math.max(1, entries / 4 - 1);
        if (requests.size() > chunk) {
            List<CompletableFuture<Void>> parts = new java.util.ArrayList<>();
            for (int from = 0; from < requests.size(); from += chunk) {
                if (from > 0) {
                    // collect the parts done so far before the queue wraps onto their wait descriptors'
                    // status words, which a later part reuses
                    List<Runnable> finished = new java.util.ArrayList<>();
                    poll(finished);
                    finished.forEach(Runnable::run);
                }
                CompletableFuture<Void> part = new CompletableFuture<>();
                parts.add(part);
                submitOne(requests.subList(from, Math.min(requests.size(), from + chunk)), part);
            }
            CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).whenComplete((ok, error) -> {
                if (error != null) {
                    done.completeExceptionally(error instanceof java.util.concurrent.CompletionException
                            && error.getCause() != null ? error.getCause() : error);
                } else {
                    done.complete(null);
                }
            });
            return;
        }
        submitOne(requests, done);
    }

    private void submitOne(List<QueuedDescriptor> requests, CompletableFuture<Void> done) {
        int head = (int) (hardware.readRegister(Registers.IQH, 8) >>> 4);
        int free = (head - tail - 1 + entries) % entries;
        if (requests.size() + 1 > free) {
            done.completeExceptionally(new InvalidationException(String.format(
                    "unit %s: invalidation queue full: %d of %d descriptors wait for the hardware, %d more needed",
                    unitId, entries - 1 - free, entries, requests.size() + 1)));
            return;
        }
        int first = tail;
        for (QueuedDescriptor request : requests) {
            write(tail, request);
            tail = (tail + 1) % entries;
        }
        int waitIndex = tail;
        memory.write32(statusAddress(waitIndex), QI_IN_USE);
        write(waitIndex, QueuedDescriptor.InvalidationWait.of(false, true, true, QI_DONE, statusAddress(waitIndex)));
        tail = (tail + 1) % entries;
        pending.add(new Batch(first, waitIndex, done));
        hardware.writeRegister(Registers.IQT, 8, (long) tail << 4);
    }

    @Override
    public void poll(List<Runnable> completions) {
        // each round overwrites the refused descriptor; a queue that keeps refusing (an IQT or IQA written
        // behind the driver's back) is left with IQE set after one pass over it
        for (int round = 0; round < entries
                && (hardware.readRegister(Registers.FSTS, 4) & Registers.FSTS_IQE) != 0; round++) {
            recoverFromError(completions);
        }
        for (int round = 0; round < entries
                && (hardware.readRegister(Registers.FSTS, 4) & Registers.FSTS_ITE) != 0; round++) {
            recoverFromTimeOut(completions); // clearing ITE resumes the queue, which may time out again
        }
        for (Iterator<Batch> it = pending.iterator(); it.hasNext();) {
            Batch batch = it.next();
            if (memory.read32(statusAddress(batch.waitIndex)) != QI_DONE) {
                break; // the queue runs in order: later batches are not done either
            }
            memory.write32(statusAddress(batch.waitIndex), QI_FREE);
            it.remove();
            completions.add(complete(batch));
        }
    }

    private void recoverFromError(List<Runnable> completions) {
        int head = (int) (hardware.readRegister(Registers.IQH, 8) >>> 4);
        QueuedDescriptor refused = read(head);
        Batch owner = null;
        for (Batch batch : pending) {
            if (within(batch.first, head, batch.waitIndex)) {
                owner = batch;
                break;
            }
        }
        String what = String.format("unit %s: the hardware refused invalidation descriptor %d (type %d: %016x %016x)"
                + " with FSTS.IQE", unitId, head, refused.low() & 0xF, refused.low(), refused.high());
        if (owner == null || head == owner.waitIndex) {
            write(head, QueuedDescriptor.InvalidationWait.noOp());
            if (owner != null) {
                // the wait itself was refused: it will write nothing, the batch ends here
                owner.error = what;
                memory.write32(statusAddress(owner.waitIndex), QI_FREE);
                pending.remove(owner);
                completions.add(complete(owner));
            }
        } else {
            owner.error = what + "; the rest of the batch was not carried out";
            for (int i = head; i != owner.waitIndex; i = (i + 1) % entries) {
                write(i, QueuedDescriptor.InvalidationWait.noOp());
            }
        }
        hardware.writeRegister(Registers.FSTS, 4, Registers.FSTS_IQE);
    }

    /**
     * ITE (Linux {@code qi_check_fault}): the hardware stopped just past the
     * wait it aborted, so the batch whose wait sits before IQH and still reads
     * in use is the one that timed out; it fails, and ITE is cleared.
     */
    private void recoverFromTimeOut(List<Runnable> completions) {
        int sid = Registers.iqercdItesid(hardware.readRegister(Registers.IQERCD, 8));
        int head = (int) (hardware.readRegister(Registers.IQH, 8) >>> 4);
        int aborted = (head - 1 + entries) % entries;
        for (Batch batch : pending) {
            if (batch.waitIndex == aborted && memory.read32(statusAddress(batch.waitIndex)) == QI_IN_USE) {
                batch.error = String.format("unit %s: the device-TLB invalidation of %02x:%02x.%d did not complete:"
                        + " the device did not answer within the time-out (FSTS.ITE, IQERCD.ITESID 0x%04x); the"
                        + " batch's invalidation wait was aborted", unitId, sid >>> 8, sid >>> 3 & 0x1f, sid & 7, sid);
                memory.write32(statusAddress(batch.waitIndex), QI_FREE);
                pending.remove(batch);
                completions.add(complete(batch));
                break;
            }
        }
        hardware.writeRegister(Registers.FSTS, 4, Registers.FSTS_ITE);
    }

    private boolean within(int first, int index, int last) {
        int span = (last - first + entries) % entries;
        return (index - first + entries) % entries <= span;
    }

    private Runnable complete(Batch batch) {
        if (batch.error == null) {
            return () -> batch.done.complete(null);
        }
        InvalidationException error = new InvalidationException(batch.error);
        return () -> batch.done.completeExceptionally(error);
    }

    @Override
    public int pendingBatches() {
        return pending.size();
    }

    private void write(int index, QueuedDescriptor descriptor) {
        long address = queue + (long) index * QueuedDescriptor.SIZE;
        memory.write64(address, descriptor.low());
        memory.write64(address + 8, descriptor.high());
    }

    private QueuedDescriptor read(int index) {
        long address = queue + (long) index * QueuedDescriptor.SIZE;
        return QueuedDescriptor.decode(memory.read64(address), memory.read64(address + 8));
    }
}
