package iommu.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import iommu.api.IommuException;

/**
 * The component's one fair lock: every change and every read of the state
 * runs under it. Callers of the service wait for it a bounded time, and get
 * a clear error while the component is not active; SCR's callbacks (binds,
 * activation) wait as long as it takes.
 */
final class OperationLock {

    private final ReentrantLock lock = new ReentrantLock(true);
    private volatile long waitMillis;
    private boolean active;

    OperationLock(long waitMillis) {
        this.waitMillis = waitMillis;
    }

    void waitAtMost(long millis) {
        waitMillis = millis;
    }

    /** Under the lock, waiting for it at most the configured time, while active. */
    <T> T call(Supplier<T> operation) {
        boolean acquired;
        try {
            acquired = lock.tryLock(waitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IommuException("interrupted while waiting for another operation to finish");
        }
        if (!acquired) {
            throw new IommuException("timed out after " + waitMillis
                    + " ms waiting for another operation or a strategy swap to finish");
        }
        try {
            if (!active) {
                throw new IommuException("the device assignment service is stopping");
            }
            return operation.get();
        } finally {
            lock.unlock();
        }
    }

    void run(Runnable operation) {
        call(() -> {
            operation.run();
            return null;
        });
    }

    /** Under the lock however long it takes, active or not (SCR's callbacks, and what the strategy is). */
    <T> T always(Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    void always(Runnable change) {
        always(() -> {
            change.run();
            return null;
        });
    }

    /** Called under {@link #always}: whether the service answers calls. */
    void active(boolean value) {
        active = value;
    }

    boolean isActive() {
        return active;
    }
}
