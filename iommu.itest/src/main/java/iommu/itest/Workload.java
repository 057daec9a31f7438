package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import iommu.api.DeviceAssignment;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;

/**
 * Eight workers attaching and detaching their own VFs for as long as a
 * disturbance (a swap, a bundle restart) takes; each remembers what it was
 * told succeeded, which is what the platform must still hold afterwards.
 */
final class Workload {

    interface Disturbance {
        void run() throws Exception;
    }

    /** One worker: its own 20 VFs across the three NICs and its own five guests. */
    static final class Worker implements Callable<List<String>> {
        final Supplier<DeviceAssignment> service;
        final List<PciAddress> devices = new ArrayList<>();
        final int firstGuest;
        final Map<PciAddress, Integer> attached = new TreeMap<>();
        final Random random;
        final AtomicBoolean stop;
        int operations;

        Worker(int index, Supplier<DeviceAssignment> service, AtomicBoolean stop) {
            this.service = service;
            for (int i = 0; i < 20; i++) {
                devices.add(HotSwapTest.nic(i % 3).get(index * 14 + i / 3 + 1));
            }
            this.firstGuest = 1000 + index * 20;
            this.random = new Random(index);
            this.stop = stop;
        }

        @Override
        public List<String> call() throws InterruptedException {
            List<String> errors = new ArrayList<>();
            while (!stop.get()) {
                int i = random.nextInt(devices.size());
                PciAddress device = devices.get(i);
                DeviceAssignment assignment = service.get();
                if (assignment == null) {
                    errors.add(device + ": no DeviceAssignment service");
                    Thread.sleep(5);
                    continue;
                }
                try {
                    if (attached.containsKey(device)) {
                        assignment.detach(List.of(device));
                        attached.remove(device);
                    } else {
                        assignment.attach(GuestId.guest(firstGuest + i % 5), List.of(device));
                        attached.put(device, firstGuest + i % 5);
                    }
                    operations++;
                } catch (IommuException e) {
                    errors.add(device + ": " + e.getMessage());
                }
            }
            return errors;
        }
    }

    /** What the workers did. */
    record Result(List<Worker> workers, List<String> errors) {
        Map<PciAddress, Integer> attached() {
            Map<PciAddress, Integer> expected = new TreeMap<>();
            workers.forEach(w -> expected.putAll(w.attached));
            return expected;
        }
    }

    private Workload() {
    }

    static Result run(Supplier<DeviceAssignment> service, Disturbance disturbance) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Worker> workers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<List<String>>> results = new ArrayList<>();
        try {
            for (int w = 0; w < 8; w++) {
                Worker worker = new Worker(w, service, stop);
                workers.add(worker);
                results.add(pool.submit(worker));
            }
            disturbance.run();
        } finally {
            stop.set(true);
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
        List<String> errors = new ArrayList<>();
        for (Future<List<String>> f : results) {
            errors.addAll(f.get());
        }
        return new Result(workers, errors);
    }

    /** Which guest the platform says owns each attached device. */
    static Map<PciAddress, Integer> platformView(DeviceAssignment assignment) {
        Map<PciAddress, Integer> view = new TreeMap<>();
        assignment.devices().stream().filter(d -> d.guest != null)
                .forEach(d -> view.put(PciAddress.parse(d.bdf), d.guest));
        return view;
    }
}
