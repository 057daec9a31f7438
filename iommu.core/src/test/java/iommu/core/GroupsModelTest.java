package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import iommu.alloc.global.GlobalStrategy;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.PciAddress;
import iommu.api.dto.GroupDTO;
import iommu.api.spi.DeviceContext;

/**
 * Random attach, detach and strategy swaps over units whose devices sit
 * behind bridges (groups of two and three sharing an alias requester id),
 * through the component: after every step, the DMA each device's unit
 * receives finds only its owner's entry (none while the host owns it), every
 * present entry's id is held in the map by that guest, and the audit agrees.
 * Sabotage: with {@code Operations.programAliases} skipped (a group's alias
 * id left without its entry, the dec403cc66 bug class) the default seed fails
 * at step 57, a device's DMA finding no entry of its owner.
 * {@code -Dgroups.steps=N -Dgroups.seed=S} for longer runs.
 */
class GroupsModelTest {

    @Test
    void groupsAreOwnedWholeAndNoEntryOutlivesItsId() {
        long seed = Long.getLong("groups.seed", 14L);
        int steps = Integer.getInteger("groups.steps", 1500);
        Random random = new Random(seed);
        Fixture f = new Fixture();
        AliasingUnit dmar0 = (AliasingUnit) new AliasingUnit("dmar0", 16, f.events).withDevices(0x10, 12);
        AliasingUnit dmar1 = (AliasingUnit) new AliasingUnit("dmar1", 16, f.events).withDevices(0x20, 8);
        List<PciAddress> d0 = dmar0.deviceList();
        List<PciAddress> d1 = dmar1.deviceList();
        dmar0.behindBridge(PciAddress.parse("0000:05:00.0"), d0.get(0), d0.get(1));
        dmar0.behindBridge(PciAddress.parse("0000:04:1e.0"), d0.get(2), d0.get(3), d0.get(4));
        dmar1.behindBridge(PciAddress.parse("0000:07:00.0"), d1.get(0), d1.get(1));
        List<AliasingUnit> units = List.of(dmar0, dmar1);
        AssignmentManager m = f.manager("per-unit", List.copyOf(units), new PerUnitStrategy(), new GlobalStrategy());
        String strategy = "per-unit";
        int refused = 0;
        for (int step = 0; step < steps; step++) {
            List<GroupDTO> groups = m.groups();
            GroupDTO g = groups.get(random.nextInt(groups.size()));
            List<PciAddress> members = g.devices.stream().map(PciAddress::parse).toList();
            List<PciAddress> some = random.nextInt(4) == 0 ? List.of(members.get(random.nextInt(members.size())))
                    : members;
            try {
                switch (random.nextInt(10)) {
                    case 0 -> {
                        strategy = strategy.equals("global") ? "per-unit" : "global";
                        m.modified(Fixture.config(strategy));
                    }
                    case 1, 2, 3, 4 -> m.attach(GuestId.guest(1 + random.nextInt(6)), some);
                    default -> m.detach(some);
                }
            } catch (IommuException e) {
                refused++;
                assertThat(e.getMessage()).as("step %d", step).doesNotContain("\n");
            }
            check(m, f, units, step);
        }
        assertThat(refused).as("partial groups and other refusals were tried").isPositive();
    }

    private static void check(AssignmentManager m, Fixture f, List<AliasingUnit> units, int step) {
        Map<PciAddress, Integer> owner = new TreeMap<>();
        m.devices().forEach(d -> owner.put(PciAddress.parse(d.bdf), d.guest));
        for (AliasingUnit u : units) {
            for (PciAddress d : u.deviceList()) {
                Optional<DeviceContext> seen = u.seenFor(d);
                Integer o = owner.get(d);
                if (o == null) {
                    assertThat(seen).as("step %d: %s is the host's", step, d).isEmpty();
                } else {
                    assertThat(seen).as("step %d: the DMA of %s", step, d).isPresent();
                    assertThat(seen.get().guest().value()).as("step %d: the DMA of %s", step, d).isEqualTo(o);
                }
            }
            for (Map.Entry<PciAddress, DeviceContext> e : new ArrayList<>(u.contexts.entrySet())) {
                DomainId did = e.getValue().domainId();
                assertThat(f.table.guest(u.id, did)).as("step %d: %s's entry %s on %s", step, e.getKey(), did, u.id)
                        .contains(e.getValue().guest());
            }
        }
        for (GroupDTO g : m.groups()) {
            assertThat(g.devices.stream().map(d -> owner.get(PciAddress.parse(d))).distinct().count())
                    .as("step %d: group %d has one owner", step, g.group).isEqualTo(1);
        }
        assertThat(m.audit()).as("step %d", step).isEmpty();
    }
}
