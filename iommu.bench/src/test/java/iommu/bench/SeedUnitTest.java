package iommu.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import iommu.alloc.perunit.PerUnitStrategy;
import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.spi.DomainIdAllocator;
import iommu.api.spi.UnitDescriptor;

/**
 * The seed re-implementation must compute what the platform computes (only
 * slower), or the comparison means nothing: same lowest-free choice, same
 * answers both ways, over a random sequence of attaches and detaches.
 */
class SeedUnitTest {

    @Test
    void seedAndPlatformHandOutTheSameIdsAndAnswerTheSame() {
        for (int dids : new int[] {256, 4096}) {
            SeedUnit seed = new SeedUnit(dids);
            DomainIdAllocator platform = new PerUnitStrategy().open(
                    List.of(new UnitDescriptor("u", dids, Set.of(DomainId.of(0)))), List.of());
            int[] didOf = new int[GuestId.MAX + 1];
            List<Integer> holders = new ArrayList<>();
            Random random = new Random(dids);
            for (int step = 0; step < 20_000; step++) {
                if (holders.isEmpty() || (holders.size() < dids - 1 && random.nextInt(100) < 55)) {
                    int g = 1 + random.nextInt(GuestId.MAX);
                    if (didOf[g] != 0) {
                        assertThat(seed.contextSetDomainId(g)).as("reuse").isEqualTo(didOf[g]);
                        continue;
                    }
                    int s = seed.contextSetDomainId(g);
                    int p = platform.allocate(GuestId.guest(g), "u").value();
                    assertThat(s).isEqualTo(p);
                    didOf[g] = s;
                    holders.add(g);
                } else {
                    int g = holders.remove(random.nextInt(holders.size()));
                    assertThat(seed.domainIommuDomid(g)).isEqualTo(didOf[g]);
                    assertThat(seed.contextGetDomainId(didOf[g])).isEqualTo(g);
                    assertThat(seed.releaseDomainId(g)).isEqualTo(didOf[g]);
                    platform.release(GuestId.guest(g), "u", DomainId.of(didOf[g]));
                    didOf[g] = 0;
                    assertThat(seed.domainIommuDomid(g)).isEqualTo(-1);
                }
            }
            assertThat(seed.isSet(0)).as("DID 0 held back").isTrue();
            assertThat(seed.contextGetDomainId(dids)).isEqualTo(-1);
        }
    }

    @Test
    void fullUnitRefusesAsTheSeedDid() {
        SeedUnit seed = new SeedUnit(256);
        for (int g = 1; g <= 255; g++) {
            assertThat(seed.contextSetDomainId(g)).isEqualTo(g);
        }
        assertThat(seed.contextSetDomainId(300)).isEqualTo(-1);
        assertThat(seed.releaseDomainId(300)).isEqualTo(-1);
    }
}
