package iommu.vtd;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import iommu.api.InvalidationException;

/**
 * The driver side of register-based invalidation (Linux
 * {@code __iommu_flush_context}, {@code __iommu_flush_iotlb}): one command at
 * a time, a context-cache invalidation written to CCMD with ICC set, an IOTLB
 * invalidation to IVA (page-selective only) then the IOTLB register with IVT
 * set; the command is done when the hardware clears ICC/IVT, and failed when
 * it reports the actual granularity (CAIG/IAIG) as 0. Instead of spinning,
 * commands wait in a software FIFO and {@link #poll} moves them along.
 */
final class RegisterInvalidator implements Invalidator {

    private static final class Batch {
        final CompletableFuture<Void> done;
        int remaining;
        String error;

        Batch(CompletableFuture<Void> done, int remaining) {
            this.done = done;
            this.remaining = remaining;
        }
    }

    private record Command(QueuedDescriptor request, Batch batch) {
    }

    private final String unitId;
    private final VtdHardware hardware;
    private final int iotlbRegister;
    private final int ivaRegister;
    private final Deque<Command> waiting = new ArrayDeque<>();
    private Command inFlight;
    private int pendingBatches;

    RegisterInvalidator(String unitId, VtdHardware hardware, ExtendedCapability ecap) {
        this.unitId = unitId;
        this.hardware = hardware;
        this.ivaRegister = ecap.iotlbRegisterOffset();
        this.iotlbRegister = ivaRegister + Registers.IOTLB_AFTER_IVA;
    }

    @Override
    public String mechanism() {
        return "register";
    }

    @Override
    public void submit(List<QueuedDescriptor> requests, CompletableFuture<Void> done) {
        if (requests.isEmpty()) {
            done.complete(null);
            return;
        }
        Batch batch = new Batch(done, requests.size());
        pendingBatches++;
        for (QueuedDescriptor request : requests) {
            waiting.add(new Command(request, batch));
        }
    }

    @Override
    public void poll(List<Runnable> completions) {
        while (true) {
            if (inFlight != null) {
                if (!finished(inFlight, completions)) {
                    return;
                }
                inFlight = null;
            }
            Command next = waiting.poll();
            if (next == null) {
                return;
            }
            if (next.batch.error != null) {
                settle(next.batch, completions); // an earlier command of its batch failed: skip the rest
                continue;
            }
            issue(next.request);
            inFlight = next;
        }
    }

    private void issue(QueuedDescriptor request) {
        if (request instanceof QueuedDescriptor.ContextCacheInvalidate c) {
            hardware.writeRegister(Registers.CCMD, 8,
                    Registers.ccmd(c.granularity(), c.functionMask(), c.sourceId(), c.domainId()));
        } else if (request instanceof QueuedDescriptor.IotlbInvalidate t) {
            if (t.granularity() == Registers.GRANULARITY_DEVICE_OR_PAGE) {
                hardware.writeRegister(ivaRegister, 8, Registers.iva(t.address(), t.invalidationHint(), t.addressMask()));
            }
            hardware.writeRegister(iotlbRegister, 8,
                    Registers.iotlbCommand(t.granularity(), t.drainReads(), t.drainWrites(), t.domainId()));
        } else {
            throw new IllegalArgumentException("no register carries " + request);
        }
    }

    /** Whether the command in flight finished; records its failure in its batch. */
    private boolean finished(Command command, List<Runnable> completions) {
        int actual;
        if (command.request instanceof QueuedDescriptor.ContextCacheInvalidate) {
            long value = hardware.readRegister(Registers.CCMD, 8);
            if ((value & Registers.CCMD_ICC) != 0) {
                return false;
            }
            actual = Registers.ccmdCaig(value);
            if (actual == 0) {
                command.batch.error = String.format("unit %s: context-cache invalidation (CCMD 0x%016x) ignored by the"
                        + " hardware: CAIG 0", unitId, value);
            }
        } else {
            long value = hardware.readRegister(iotlbRegister, 8);
            if ((value & Registers.IOTLB_IVT) != 0) {
                return false;
            }
            actual = Registers.iotlbIaig(value);
            if (actual == 0) {
                command.batch.error = String.format("unit %s: IOTLB invalidation (IOTLB 0x%016x) ignored by the"
                        + " hardware: IAIG 0", unitId, value);
            }
        }
        settle(command.batch, completions);
        return true;
    }

    private void settle(Batch batch, List<Runnable> completions) {
        if (--batch.remaining > 0) {
            return;
        }
        pendingBatches--;
        if (batch.error == null) {
            completions.add(() -> batch.done.complete(null));
        } else {
            InvalidationException error = new InvalidationException(batch.error);
            completions.add(() -> batch.done.completeExceptionally(error));
        }
    }

    @Override
    public int pendingBatches() {
        return pendingBatches;
    }
}
