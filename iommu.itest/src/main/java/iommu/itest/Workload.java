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
 * Eight workers attaching and detaching their own VFs, and mapping and
 * unmapping pages of their own guests, for as long as a disturbance (a swap, a
 * bundle restart) takes; each remembers what it was told succeeded, which is
 * what the platform must still hold afterwards, and what DMA must reach.
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
        /** Guest to IOVA to host address: the pages this worker was told are mapped. */
        final Map<Integer, Map<Long, Long>> mapped = new TreeMap<>();
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
                int guest = firstGuest + i % 5;
                long iova = PAGES_FROM + PAGE * random.nextInt(16);
                Map<Long, Long> pages = mapped.computeIfAbsent(guest, g -> new TreeMap<>());
                boolean pageWork = random.nextInt(3) == 0;
                try {
                    if (pageWork && pages.containsKey(iova)) {
                        assignment.unmap(GuestId.guest(guest), iova, 1);
                        pages.remove(iova);
                    } else if (pageWork) {
                        long host = 0x1_0000_0000L + ((long) guest << 24) + iova;
                        assignment.map(GuestId.guest(guest), iova, host, 1);
                        pages.put(iova, host);
                    } else if (attached.containsKey(device)) {
                        assignment.detach(List.of(device));
                        attached.remove(device);
                    } else {
                        assignment.attach(GuestId.guest(guest), List.of(device));
                        attached.put(device, guest);
                    }
                    operations++;
                } catch (IommuException e) {
                    if (pageWork && e.getMessage().contains("the pages are unmapped, but")) {
                        pages.remove(iova); // done, only its invalidation failed: the message says so
                    }
                    errors.add((pageWork ? "guest " + guest + " IOVA 0x" + Long.toHexString(iova) : device) + ": "
                            + e.getMessage());
                }
            }
            return errors;
        }
    }

    static final long PAGE = 0x1000;
    static final long PAGES_FROM = 0x40_0000;

    /** What the workers did. */
    record Result(List<Worker> workers, List<String> errors) {
        Map<PciAddress, Integer> attached() {
            Map<PciAddress, Integer> expected = new TreeMap<>();
            workers.forEach(w -> expected.putAll(w.attached));
            return expected;
        }

        /**
         * DMA of every attached device, through its unit, to each of the 16
         * pages its guest may have: a page the workers were told is mapped
         * reaches its host address, any other faults. Returns what does not.
         */
        List<String> wrongTranslations(DeviceAssignment assignment,
                java.util.function.Function<String, iommu.api.spi.IommuUnit> units) {
            Map<Integer, Map<Long, Long>> pages = new TreeMap<>();
            workers.forEach(w -> pages.putAll(w.mapped));
            List<String> wrong = new ArrayList<>();
            for (var d : assignment.devices()) {
                if (d.guest == null || !pages.containsKey(d.guest)) {
                    continue;
                }
                PciAddress device = PciAddress.parse(d.bdf);
                iommu.api.spi.IommuUnit unit = units.apply(d.unit);
                for (int p = 0; p < 16; p++) {
                    long iova = PAGES_FROM + PAGE * p;
                    Long expected = pages.get(d.guest).get(iova);
                    var t = unit.translate(device, iova);
                    Long seen = t.isFault() ? null : t.hostAddress().getAsLong();
                    if (!java.util.Objects.equals(expected, seen)) {
                        wrong.add(String.format("%s of guest %d, IOVA 0x%x: expected %s, DMA gives %s", device, d.guest,
                                iova, expected == null ? "a fault" : "0x" + Long.toHexString(expected),
                                seen == null ? "a fault" : "0x" + Long.toHexString(seen)));
                    }
                }
            }
            return wrong;
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

    /** Unmaps whatever pages the workers' guests may have left mapped: a new workload starts without any. */
    static void unmapAll(DeviceAssignment assignment) {
        for (int w = 0; w < 8; w++) {
            for (int g = 0; g < 5; g++) {
                assignment.unmap(GuestId.guest(1000 + w * 20 + g), PAGES_FROM, 16);
            }
        }
    }

    /** Which guest the platform says owns each attached device. */
    static Map<PciAddress, Integer> platformView(DeviceAssignment assignment) {
        Map<PciAddress, Integer> view = new TreeMap<>();
        assignment.devices().stream().filter(d -> d.guest != null)
                .forEach(d -> view.put(PciAddress.parse(d.bdf), d.guest));
        return view;
    }
}
