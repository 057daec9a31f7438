package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.IommuUnit;
import iommu.api.spi.Translation;

/**
 * DESIGN invariant 1, randomized: attach, detach, map, unmap and DMA over
 * many guests and devices; after every step a device's DMA reaches only its
 * current owner's pages, never a stale translation of a previous owner
 * (domain ids are freed and reused all the time here). The NICs' VFs have
 * ATS, so their device-TLBs are among the caches a stale translation could
 * come from. The seed is printed
 * in the failure message; set -Diommu.isolation.seed / .steps to replay or
 * run longer.
 */
class IsolationTest extends PlatformTest {


    @BeforeEach
    @AfterEach
    void unmapEverything() {
        for (int g = 1; g <= 12; g++) {
            assignment.unmap(GuestId.guest(g), 0, 64);
        }
    }

    /** With a group of two among the devices: attached and detached whole, its DMA through the bridge's id. */
    @Test
    void dmaOnlyEverReachesTheCurrentOwnersPages() {
        long seed = Long.getLong("iommu.isolation.seed", System.nanoTime());
        int steps = Integer.getInteger("iommu.isolation.steps", 3000);
        Random random = new Random(seed);

        // 8 VFs on each NIC unit, and few ids in play so that domain ids are reused constantly
        List<PciAddress> devices = new ArrayList<>();
        for (int nic = 0; nic < 3; nic++) {
            devices.addAll(HotSwapTest.nic(nic).subList(0, 8));
        }
        // and the default platform's IOMMU group of two behind the conventional PCI bridge 00:1b.0
        devices.add(PciAddress.parse("0000:0a:00.0"));
        devices.add(PciAddress.parse("0000:0a:00.1"));
        Map<PciAddress, List<PciAddress>> groupOf = new HashMap<>();
        assignment.groups().forEach(g -> g.devices.forEach(d -> groupOf.put(PciAddress.parse(d),
                g.devices.stream().map(PciAddress::parse).toList())));
        assertThat(groupOf.get(PciAddress.parse("0000:0a:00.0"))).as("the default platform's group of two").hasSize(2);
        Map<String, String> unitOf = new HashMap<>();
        assignment.devices().forEach(d -> unitOf.put(d.bdf, d.unit));
        // the NICs' VFs use ATS: their DMA goes through their device-TLBs, which every unmap and detach invalidates
        assertThat(assignment.devices()).filteredOn(d -> d.bdf.equals(HotSwapTest.nic(0).get(0).toString()))
                .singleElement().satisfies(d -> assertThat(d.ats).isTrue());
        Map<String, IommuUnit> units = new HashMap<>();
        devices.forEach(d -> units.computeIfAbsent(unitOf.get(d.toString()), id -> Platform.unit(context, id)));

        Map<PciAddress, Integer> owner = new TreeMap<>();
        Map<Integer, Map<Long, Long>> pages = new HashMap<>(); // guest -> iova page -> host page
        int guests = 12;
        int iovaPages = 16;

        for (int step = 0; step < steps; step++) {
            String where = "seed " + seed + ", step " + step;
            int op = random.nextInt(10);
            PciAddress device = devices.get(random.nextInt(devices.size()));
            int guest = 1 + random.nextInt(guests);
            long page = random.nextInt(iovaPages);
            if (op < 3) {
                List<PciAddress> group = groupOf.getOrDefault(device, List.of(device)); // owned whole
                if (owner.containsKey(device)) {
                    assignment.detach(group);
                    group.forEach(owner::remove);
                } else {
                    assignment.attach(GuestId.guest(guest), group);
                    group.forEach(d -> owner.put(d, guest));
                }
            } else if (op < 6) {
                Map<Long, Long> map = pages.computeIfAbsent(guest, g -> new HashMap<>());
                if (map.containsKey(page)) {
                    assignment.unmap(GuestId.guest(guest), page << 12, 1);
                    map.remove(page);
                } else {
                    long host = 0x100000L + guest * 0x1000L + page; // distinct per (guest, page)
                    assignment.map(GuestId.guest(guest), page << 12, host << 12, 1);
                    map.put(page, host);
                }
            }
            // DMA: several devices, twice each so the second one comes from the caches
            for (int probe = 0; probe < 4; probe++) {
                PciAddress d = devices.get(random.nextInt(devices.size()));
                long p = random.nextInt(iovaPages);
                Integer who = owner.get(d);
                // a host-owned device is in the host domain: its DMA reaches the identity address
                Long expected = who == null ? Long.valueOf(p) : pages.getOrDefault(who, Map.of()).get(p);
                for (int again = 0; again < 2; again++) {
                    Translation t = units.get(unitOf.get(d.toString())).translate(d, p << 12);
                    if (expected == null) {
                        assertThat(t.isFault()).as("%s: DMA of %s (owner %s) to page %d must fault, got %s", where, d,
                                who, p, t).isTrue();
                    } else {
                        assertThat(t.hostAddress()).as("%s: DMA of %s (owner %s) to page %d", where, d, who, p)
                                .hasValue(expected << 12);
                    }
                }
            }
        }
        assertThat(assignment.audit()).isEmpty();
    }
}
