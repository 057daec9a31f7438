package iommu.amdvi;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The driver side of the AMD-Vi command buffer: a ring of 512 commands in
 * memory. A batch is its commands followed by one COMPLETION_WAIT that
 * stores the batch's sequence number at a semaphore in memory (as Linux's
 * {@code iommu_completion_wait} does); the batch's stage completes when the
 * driver sees that store. Commands that do not fit wait in software until the
 * hardware moved its head. Not thread-safe: the unit guards it.
 */
final class CommandBuffer {

    static final int ENTRIES = 512;
    /** ComLen / EventLen value for 512 entries. */
    static final long LENGTH_512 = 9L << Mmio.LEN_SHIFT;

    private record Batch(long sequence, CompletableFuture<Void> done) {
    }

    private final AmdViHardware hardware;
    private final Memory memory;
    private final long semaphore;
    private final long size = (long) ENTRIES * Command.SIZE;
    private final long base;
    private final Deque<long[]> pending = new ArrayDeque<>();
    private final Deque<Batch> batches = new ArrayDeque<>();
    private long tail;
    private long nextSequence = 1;

    CommandBuffer(AmdViHardware hardware, Memory memory, long base, long semaphore) {
        this.hardware = hardware;
        this.memory = memory;
        this.base = base;
        this.semaphore = semaphore;
    }

    long base() {
        return base;
    }

    /** Queues the commands and the batch's completion wait, and hands the hardware what fits. */
    void submit(List<Command> commands, CompletableFuture<Void> done) {
        for (Command c : commands) {
            pending.add(c.encode());
        }
        long sequence = nextSequence++;
        pending.add(new Command.CompletionWait(true, false, false, semaphore, sequence).encode());
        batches.add(new Batch(sequence, done));
        pump();
    }

    /** Writes pending commands while the ring has room, moving the tail register after each fill. */
    void pump() {
        while (!pending.isEmpty()) {
            long head = hardware.readRegister(Mmio.CMD_HEAD);
            int written = 0;
            while (!pending.isEmpty() && (tail + Command.SIZE) % size != head) {
                long[] q = pending.poll();
                memory.write64(base + tail, q[0]);
                memory.write64(base + tail + 8, q[1]);
                tail = (tail + Command.SIZE) % size;
                written++;
            }
            if (written == 0) {
                return; // the ring is full and the hardware does not move: wait for release
            }
            hardware.writeRegister(Mmio.CMD_TAIL, tail);
        }
    }

    /** Collects the completions of the batches whose completion wait stored its sequence number. */
    void poll(List<Runnable> completions) {
        pump();
        long stored = memory.read64(semaphore);
        while (!batches.isEmpty() && batches.peek().sequence() <= stored) {
            CompletableFuture<Void> done = batches.poll().done();
            completions.add(() -> done.complete(null));
        }
    }

    int pendingBatches() {
        return batches.size();
    }
}
