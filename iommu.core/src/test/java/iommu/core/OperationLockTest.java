package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import iommu.api.IommuException;

class OperationLockTest {

    @Test
    void callsFailClearlyWhileTheComponentIsNotActive() {
        OperationLock lock = new OperationLock(50);
        assertThatThrownBy(() -> lock.call(() -> 1)).isInstanceOf(IommuException.class)
                .hasMessage("the device assignment service is stopping");
        lock.always(() -> lock.active(true));
        assertThat(lock.call(() -> 1)).isEqualTo(1);
    }

    @Test
    void aCallWaitsABoundedTimeForTheHolder() throws InterruptedException {
        OperationLock lock = new OperationLock(50);
        lock.always(() -> lock.active(true));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = new Thread(() -> lock.always(() -> {
            held.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        holder.start();
        held.await();
        try {
            assertThatThrownBy(() -> lock.run(() -> { })).isInstanceOf(IommuException.class)
                    .hasMessage("timed out after 50 ms waiting for another operation or a strategy swap to finish");
        } finally {
            release.countDown();
            holder.join();
        }
        lock.run(() -> { });
    }
}
