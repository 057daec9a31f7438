package iommu.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.DomainIdsExhaustedException;
import iommu.api.GuestId;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;

/**
 * The Linux re-implementation must compute what the platform computes, or the
 * comparison means nothing: with DIDs 0 and 1 held back on the platform's side
 * (Linux's IDA starts at IDA_START_DID = 2), the same lowest-free choice, the
 * same answers both ways, the same refusal when the unit is full and the same
 * reuse of released ids, over random sequences of attaches and detaches.
 */
class LinuxUnitTest {

    private static final Set<DomainId> LINUX_RESERVED = Set.of(DomainId.of(0), DomainId.of(1));

    private static DomainIdAllocator platform(String unit, int dids) {
        return new PerUnitStrategy().open(List.of(new UnitDescriptor(unit, dids, LINUX_RESERVED)), List.of());
    }

    @Test
    void linuxAndPlatformHandOutTheSameIdsAndAnswerTheSame() {
        for (int dids : new int[] {256, 4096}) {
            LinuxUnit linux = new LinuxUnit(0, dids);
            DomainIdAllocator platform = platform("u", dids);
            LinuxUnit.Domain[] domains = new LinuxUnit.Domain[GuestId.MAX + 1];
            int[] didOf = new int[GuestId.MAX + 1];
            int[] devices = new int[GuestId.MAX + 1];
            List<Integer> holders = new ArrayList<>();
            Random random = new Random(dids);
            for (int step = 0; step < 20_000; step++) {
                int roll = random.nextInt(100);
                if (holders.isEmpty() || (holders.size() < dids - 2 && roll < 55)) {
                    int g = 1 + random.nextInt(GuestId.MAX);
                    if (domains[g] == null) {
                        domains[g] = new LinuxUnit.Domain(g);
                    }
                    if (didOf[g] != 0) { // one more device of the same domain: a reference, the same DID
                        assertThat(linux.domainAttachIommu(domains[g])).isZero();
                        devices[g]++;
                        assertThat(LinuxUnit.domainIdIommu(domains[g], linux)).as("reuse").isEqualTo(didOf[g]);
                        assertThat(linux.refcnt(domains[g])).isEqualTo(devices[g]);
                        continue;
                    }
                    assertThat(linux.domainAttachIommu(domains[g])).isZero();
                    int l = LinuxUnit.domainIdIommu(domains[g], linux);
                    int p = platform.allocate(GuestId.guest(g), "u").value();
                    assertThat(l).isEqualTo(p);
                    didOf[g] = l;
                    devices[g] = 1;
                    holders.add(g);
                } else {
                    int g = holders.get(random.nextInt(holders.size()));
                    assertThat(LinuxUnit.domainIdIommu(domains[g], linux)).isEqualTo(didOf[g]);
                    linux.domainDetachIommu(domains[g]);
                    if (--devices[g] > 0) { // not the last device: the DID stays
                        assertThat(LinuxUnit.domainIdIommu(domains[g], linux)).isEqualTo(didOf[g]);
                        continue;
                    }
                    holders.remove((Integer) g);
                    platform.release(GuestId.guest(g), "u", DomainId.of(didOf[g]));
                    assertThat(linux.didInUse(didOf[g])).isFalse();
                    didOf[g] = 0;
                    assertThat(LinuxUnit.domainIdIommu(domains[g], linux)).isEqualTo(-1);
                }
            }
            assertThat(holders.size()).as("the sequence crossed the first 1,024-id chunk").isGreaterThan(dids == 4096 ? 1024 : 200);
            assertThat(linux.didInUse(0)).as("DID 0 never in the IDA").isFalse();
            assertThat(linux.didInUse(LinuxUnit.FLPT_DEFAULT_DID)).as("DID 1 never in the IDA").isFalse();
            for (int g : holders) {
                assertThat(linux.didInUse(didOf[g])).isTrue();
            }
            assertThat(platform.free("u")).isEqualTo(dids - 2 - holders.size());
        }
    }

    @Test
    void fullUnitRefusesAndReleasedIdsAreReusedLowestFirst() {
        for (int dids : new int[] {256, 65_536}) {
            LinuxUnit linux = new LinuxUnit(0, dids);
            DomainIdAllocator platform = platform("u", dids);
            int usable = dids - 2;
            List<LinuxUnit.Domain> domains = new ArrayList<>();
            for (int k = 0; k < usable; k++) {
                LinuxUnit.Domain d = new LinuxUnit.Domain(1 + k % GuestId.MAX);
                assertThat(linux.domainAttachIommu(d)).isZero();
                int did = LinuxUnit.domainIdIommu(d, linux);
                assertThat(did).isEqualTo(k + 2)
                        .isEqualTo(platform.allocate(GuestId.guest(1 + k % GuestId.MAX), "u").value());
                domains.add(d);
            }
            LinuxUnit.Domain refused = new LinuxUnit.Domain(GuestId.MAX);
            assertThat(linux.domainAttachIommu(refused)).as("No free domain ids").isEqualTo(LinuxUnit.ENOSPC);
            assertThat(LinuxUnit.domainIdIommu(refused, linux)).isEqualTo(-1);
            assertThatThrownBy(() -> platform.allocate(GuestId.guest(GuestId.MAX), "u"))
                    .isInstanceOf(DomainIdsExhaustedException.class);

            // release some, in a scattered order; the next attaches take them back lowest first, as the platform does
            Random random = new Random(dids);
            List<Integer> released = new ArrayList<>();
            for (int k = 0; k < 100; k++) {
                int i = random.nextInt(domains.size());
                LinuxUnit.Domain d = domains.get(i);
                if (d == null) {
                    continue;
                }
                int did = LinuxUnit.domainIdIommu(d, linux);
                linux.domainDetachIommu(d);
                platform.release(GuestId.guest(d.guest), "u", DomainId.of(did));
                domains.set(i, null);
                released.add(did);
            }
            released.sort(null);
            for (int did : released) {
                LinuxUnit.Domain d = new LinuxUnit.Domain(7);
                assertThat(linux.domainAttachIommu(d)).isZero();
                assertThat(LinuxUnit.domainIdIommu(d, linux)).isEqualTo(did)
                        .isEqualTo(platform.allocate(GuestId.guest(7), "u").value());
            }
            assertThat(linux.domainAttachIommu(refused)).isEqualTo(LinuxUnit.ENOSPC);
        }
    }

    @Test
    void emptiedChunksAndValueEntriesComeBack() {
        // the IDA's chunks: bits 2..62 of chunk 0 fit a value entry, 63 makes it a bitmap, 1024 opens chunk 1;
        // emptying a chunk deletes it. Fill past two chunks, empty it all, fill again: the same ids.
        LinuxUnit linux = new LinuxUnit(0, 4096);
        List<LinuxUnit.Domain> domains = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (int k = 0; k < 2100; k++) {
                LinuxUnit.Domain d = new LinuxUnit.Domain(1 + k);
                assertThat(linux.domainAttachIommu(d)).isZero();
                assertThat(LinuxUnit.domainIdIommu(d, linux)).isEqualTo(k + 2);
                domains.add(d);
            }
            for (LinuxUnit.Domain d : domains) {
                linux.domainDetachIommu(d);
            }
            domains.clear();
            for (int did = 0; did < 4096; did++) {
                assertThat(linux.didInUse(did)).isFalse();
            }
        }
        // a value entry alone: 2..10, free 5, take it back
        for (int k = 0; k < 9; k++) {
            LinuxUnit.Domain d = new LinuxUnit.Domain(1 + k);
            linux.domainAttachIommu(d);
            domains.add(d);
        }
        linux.domainDetachIommu(domains.get(3));
        LinuxUnit.Domain d = new LinuxUnit.Domain(100);
        linux.domainAttachIommu(d);
        assertThat(LinuxUnit.domainIdIommu(d, linux)).isEqualTo(5);
    }

    @Test
    void copiedContextIdsAreSkippedAsTheBenchmarkHoldsThem() {
        LinuxUnit linux = new LinuxUnit(0, 256);
        DomainIdAllocator platform = platform("u", 256);
        assertThat(linux.holdCopiedDid(2)).isEqualTo(2);
        assertThat(linux.holdCopiedDid(3)).isEqualTo(3);
        assertThat(linux.holdCopiedDid(3)).as("held already").isEqualTo(LinuxUnit.ENOSPC);
        GuestId nobody = GuestId.guest(GuestId.MAX);
        platform.allocate(nobody, "u");
        platform.allocate(nobody, "u");
        LinuxUnit.Domain d = new LinuxUnit.Domain(1);
        linux.domainAttachIommu(d);
        assertThat(LinuxUnit.domainIdIommu(d, linux)).isEqualTo(4)
                .isEqualTo(platform.allocate(GuestId.guest(1), "u").value());
    }

    @Test
    void oneDomainOnSeveralUnitsHasOneIdPerUnitKeyedBySeqId() {
        int[] seqIds = {0, 1, 63};
        LinuxUnit[] units = new LinuxUnit[seqIds.length];
        List<UnitDescriptor> descriptors = new ArrayList<>();
        for (int i = 0; i < units.length; i++) {
            units[i] = new LinuxUnit(seqIds[i], 256);
            descriptors.add(new UnitDescriptor("dmar" + seqIds[i], 256, LINUX_RESERVED));
        }
        DomainIdAllocator platform = new PerUnitStrategy().open(descriptors, List.of());
        // unit 63 already has 3 domains, unit 1 one: the same domain gets different DIDs per unit
        for (int k = 0; k < 3; k++) {
            units[2].domainAttachIommu(new LinuxUnit.Domain(100 + k));
            platform.allocate(GuestId.guest(100 + k), "dmar63");
        }
        units[1].domainAttachIommu(new LinuxUnit.Domain(200));
        platform.allocate(GuestId.guest(200), "dmar1");

        LinuxUnit.Domain d = new LinuxUnit.Domain(9);
        units[0].domainAttachIommu(d);
        assertThat(d.iommuArray.hasNode()).as("index 0 alone lives in xa_head").isFalse();
        units[2].domainAttachIommu(d);
        units[1].domainAttachIommu(d);
        assertThat(d.iommuArray.hasNode()).isTrue();
        for (int i = 0; i < units.length; i++) {
            assertThat(LinuxUnit.domainIdIommu(d, units[i]))
                    .isEqualTo(platform.allocate(GuestId.guest(9), "dmar" + seqIds[i]).value());
        }
        assertThat(LinuxUnit.domainIdIommu(d, units[0])).isEqualTo(2);
        assertThat(LinuxUnit.domainIdIommu(d, units[1])).isEqualTo(3);
        assertThat(LinuxUnit.domainIdIommu(d, units[2])).isEqualTo(5);

        units[2].domainDetachIommu(d);
        assertThat(LinuxUnit.domainIdIommu(d, units[2])).isEqualTo(-1);
        assertThat(LinuxUnit.domainIdIommu(d, units[1])).isEqualTo(3);
        units[1].domainDetachIommu(d);
        assertThat(d.iommuArray.hasNode()).as("back to index 0 alone: the node shrinks away").isFalse();
        assertThat(LinuxUnit.domainIdIommu(d, units[0])).isEqualTo(2);
        units[0].domainDetachIommu(d);
        assertThat(LinuxUnit.domainIdIommu(d, units[0])).isEqualTo(-1);
        assertThatThrownBy(() -> units[0].domainDetachIommu(d)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void reverseWalkFindsTheDomainOfADidAsTheSeedsTableDoes() {
        LinuxUnit linux = new LinuxUnit(0, 256);
        SeedUnit seed = new SeedUnit(256);
        seed.holdOutOfUse(1); // the seed's DID 1 kept back as Linux's FLPT_DEFAULT_DID
        LinuxUnit.Domain[] domains = new LinuxUnit.Domain[300];
        for (int g = 2; g < 200; g++) {
            domains[g] = new LinuxUnit.Domain(g);
            assertThat(linux.attachDevice(1000 + g, domains[g])).isZero(); // one device each, RID 1000 + g
            assertThat(LinuxUnit.domainIdIommu(domains[g], linux)).isEqualTo(seed.contextSetDomainId(g));
        }
        linux.attachDevice(5000, domains[50]); // a second device of guest 50: same DID, refcnt 2
        assertThat(linux.refcnt(domains[50])).isEqualTo(2);
        for (int did = 2; did < 200; did++) {
            assertThat(linux.domainOfDid(did).guest).isEqualTo(seed.contextGetDomainId(did));
        }
        assertThat(linux.domainOfDid(200)).isNull();
        linux.detachDevice(1000 + 50);
        assertThat(linux.domainOfDid(50).guest).as("still held through the other device").isEqualTo(50);
        linux.detachDevice(5000);
        assertThat(linux.domainOfDid(50)).isNull();
        assertThat(seed.releaseDomainId(50)).isEqualTo(50);
        LinuxUnit.Domain next = new LinuxUnit.Domain(250);
        linux.attachDevice(1250, next);
        assertThat(LinuxUnit.domainIdIommu(next, linux)).isEqualTo(seed.contextSetDomainId(250)).isEqualTo(50);
    }
}
