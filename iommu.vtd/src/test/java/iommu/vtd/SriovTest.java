package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import iommu.api.PciAddress;
import iommu.vtd.PciInventory.PhysicalFunction;

class SriovTest {

    private static PciAddress bdf(String text) {
        return PciAddress.parse(text);
    }

    @Test
    void vfsFollowOffsetAndStride() {
        PhysicalFunction pf = new PhysicalFunction(bdf("0000:3b:00.0"), 256, 128, 2, 1);
        assertThat(pf.vf(1)).isEqualTo(bdf("0000:3b:00.2"));
        assertThat(pf.vf(6)).isEqualTo(bdf("0000:3b:00.7"));
        assertThat(pf.vf(7)).isEqualTo(bdf("0000:3b:01.0"));
        assertThat(pf.vf(128)).isEqualTo(bdf("0000:3b:10.1"));
        assertThat(pf.vfs()).hasSize(128).doesNotHaveDuplicates().isSorted();
    }

    @Test
    void vfsCrossIntoTheFollowingBus() {
        // offset 128, stride 2: VF 64 is the last on bus 86, VF 65 the first on bus 87
        PhysicalFunction pf = new PhysicalFunction(bdf("0000:86:00.0"), 128, 128, 128, 2);
        assertThat(pf.vf(1)).isEqualTo(bdf("0000:86:10.0"));
        assertThat(pf.vf(2)).isEqualTo(bdf("0000:86:10.2"));
        assertThat(pf.vf(64)).isEqualTo(bdf("0000:86:1f.6"));
        assertThat(pf.vf(65)).isEqualTo(bdf("0000:87:00.0"));
        assertThat(pf.vf(128)).isEqualTo(bdf("0000:87:0f.6"));
        assertThat(pf.vf(65).routingId()).isEqualTo(0x8600 + 128 + 64 * 2);
    }

    @Test
    void aPfLateInItsBusReachesTheNextOne() {
        PhysicalFunction pf = new PhysicalFunction(bdf("0001:40:1f.0"), 16, 16, 4, 1);
        assertThat(pf.vf(1)).isEqualTo(bdf("0001:40:1f.4"));
        assertThat(pf.vf(4)).isEqualTo(bdf("0001:40:1f.7"));
        assertThat(pf.vf(5)).isEqualTo(bdf("0001:41:00.0"));
        assertThat(pf.vf(5).segment()).isEqualTo(1);
    }

    @Test
    void aVfBeyondBus255IsAnErrorNamingThePf() {
        assertThatThrownBy(() -> new PhysicalFunction(bdf("0000:ff:00.0"), 256, 256, 128, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("VF 129 of PF 0000:ff:00.0 would have routing id 0x10000, beyond bus 255"
                        + " (First VF Offset 128, VF Stride 1): expected every VF at or below 0000:ff:1f.7");
        // the last VF exactly on ff:1f.7 is fine
        assertThat(new PhysicalFunction(bdf("0000:ff:00.0"), 256, 255, 1, 1).vf(255)).isEqualTo(bdf("0000:ff:1f.7"));
    }

    @Test
    void refusesImpossibleCounts() {
        assertThatThrownBy(() -> new PhysicalFunction(bdf("18:00.0"), 64, 65, 128, 1))
                .hasMessage("PF 0000:18:00.0: numvfs 65 out of range: expected 0..totalvfs (64)");
        assertThatThrownBy(() -> new PhysicalFunction(bdf("18:00.0"), 64, 8, 0, 1))
                .hasMessageContaining("First VF Offset 0 would put VF 1 on the PF itself");
        assertThatThrownBy(() -> new PhysicalFunction(bdf("18:00.0"), 64, 8, 1, 0))
                .hasMessageContaining("VF Stride 0 with 8 VFs");
        assertThatThrownBy(() -> new PhysicalFunction(bdf("18:00.0"), 64, 8, 1, 1).vf(9))
                .hasMessage("PF 0000:18:00.0 has 8 VFs enabled: VF 9 out of range, expected 1..8");
        // no VF enabled: offset and stride do not matter
        assertThat(new PhysicalFunction(bdf("18:00.0"), 64, 0, 0, 0).vfs()).isEmpty();
    }

    @Test
    void theInventoryHoldsPfsAndVfsButNotBridgesAsDevices() {
        PciInventory inventory = PciInventory.builder()
                .bridge(new PciInventory.Bridge(bdf("17:00.0"), 0x18, 0x19), "test")
                .physicalFunction(new PhysicalFunction(bdf("18:00.0"), 8, 4, 0x100, 1), "test")
                .endpoint(bdf("18:00.1"), "test")
                .build();
        assertThat(inventory.devices()).containsExactly(
                bdf("18:00.0"), bdf("18:00.1"), bdf("19:00.0"), bdf("19:00.1"), bdf("19:00.2"), bdf("19:00.3"));
        assertThat(inventory.virtualFunctions()).hasSize(4);
        assertThat(inventory.isDevice(bdf("17:00.0"))).isFalse();
        assertThat(inventory.function(bdf("19:00.2")).orElseThrow().describe())
                .isEqualTo("VF 3 of PF 0000:18:00.0 (0000:19:00.2) (test)");
    }

    @Test
    void aVfLandingOnAnotherDeviceIsRefused() {
        PciInventory.Builder builder = PciInventory.builder().endpoint(bdf("19:00.2"), "line 7");
        assertThatThrownBy(() -> builder.physicalFunction(
                new PhysicalFunction(bdf("18:00.0"), 8, 4, 0x100, 1), "line 9"))
                .hasMessage("VF 3 of PF 0000:18:00.0 at 0000:19:00.2 is already present as endpoint 0000:19:00.2"
                        + " (line 7): expected each PCI function once");
        // nothing of the refused PF was added
        assertThat(builder.build().devices()).containsExactly(bdf("19:00.2"));
    }

    @Property
    void everyVfIsAtPfPlusOffsetPlusStrides(
            @ForAll @IntRange(min = 0, max = 0xFFFF) int pfRid,
            @ForAll @IntRange(min = 1, max = 0x400) int offset,
            @ForAll @IntRange(min = 1, max = 8) int stride,
            @ForAll @IntRange(min = 1, max = 256) int numVfs) {
        PciAddress pfAddress = PciAddress.ofRoutingId(2, pfRid);
        long last = (long) pfRid + offset + (long) (numVfs - 1) * stride;
        if (last > 0xFFFF) {
            long firstBeyond = pfRid + offset > 0xFFFF ? 1 : (0xFFFF - pfRid - offset) / stride + 2;
            assertThatThrownBy(() -> new PhysicalFunction(pfAddress, numVfs, numVfs, offset, stride))
                    .hasMessageStartingWith("VF " + firstBeyond + " of PF " + pfAddress + " would have routing id 0x"
                            + Long.toHexString(pfRid + offset + (firstBeyond - 1) * stride))
                    .hasMessageContaining("beyond bus 255");
            return;
        }
        PhysicalFunction pf = new PhysicalFunction(pfAddress, numVfs, numVfs, offset, stride);
        List<PciAddress> vfs = pf.vfs();
        Set<PciAddress> distinct = new HashSet<>(vfs);
        assertThat(distinct).hasSize(numVfs).doesNotContain(pfAddress);
        for (int n = 1; n <= numVfs; n++) {
            assertThat(vfs.get(n - 1).routingId()).isEqualTo(pfRid + offset + (n - 1) * stride);
            assertThat(vfs.get(n - 1).segment()).isEqualTo(2);
            assertThat(vfs.get(n - 1).bus()).isGreaterThanOrEqualTo(pfAddress.bus());
        }
    }
}
