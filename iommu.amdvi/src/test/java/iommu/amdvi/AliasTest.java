package iommu.amdvi;

import static iommu.amdvi.IsolationTest.G1;
import static iommu.amdvi.IsolationTest.G2;
import static iommu.amdvi.IsolationTest.IOVA;
import static iommu.amdvi.IsolationTest.ctx;
import static iommu.amdvi.IsolationTest.hit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.Invalidation;
import iommu.api.spi.Translation;

/**
 * IVHD aliases as IOMMU groups (SPI 1.2 {@code dmaAliases}): ivhd1 of
 * ivrs-11h.aml has 43:00.0 and 43:01.0 behind a PCIe-to-PCI bridge, both
 * aliased (IVHD_DEV_ALIAS, 42h) to 42:01.0. The platform programs every id of
 * a device's {@code dmaAliases}; the unit writes only the entry it is given,
 * and translates a device's DMA with the entry of its last alias, as the
 * hardware looks up the requester id it receives.
 */
class AliasTest {

    static final PciAddress BEHIND0 = PciAddress.parse("43:00.0");
    static final PciAddress BEHIND1 = PciAddress.parse("43:01.0");
    static final PciAddress BRIDGE = PciAddress.parse("42:01.0");

    AmdViUnit unit;
    AmdViUnit aliased;

    @BeforeEach
    void units() {
        List<AmdViUnit> units = new UnitRegistry(UnitRegistry.Publisher.NONE).addAll(
                IvrsPlatform.parse("t", IvrsParserTest.table("ivrs-11h.aml")).units(), "t");
        unit = units.get(0);
        aliased = units.get(1);
    }

    /** What the platform does on attach: every id of dmaAliases, then their invalidations. */
    static void attachGroupMember(AmdViUnit u, PciAddress d, int did, GuestId g) {
        for (PciAddress id : u.dmaAliases(d)) {
            u.setContext(id, ctx(did, g));
            IsolationTest.wait(u, new Invalidation.Device(id, DomainId.of(0)));
        }
        IsolationTest.wait(u, new Invalidation.Domain(DomainId.of(did)));
    }

    @Test
    void dmaAliasesNameTheDeviceThenItsIvhdAlias() {
        assertThat(aliased.dmaAliases(BEHIND0)).containsExactly(BEHIND0, BRIDGE);
        assertThat(aliased.dmaAliases(BEHIND1)).containsExactly(BEHIND1, BRIDGE);
        // the bridge is seen with its own id: the same last id, so the same group as the devices behind it
        assertThat(aliased.dmaAliases(BRIDGE)).containsExactly(BRIDGE);
        PciAddress plain = PciAddress.parse("41:00.0");
        assertThat(aliased.dmaAliases(plain)).containsExactly(plain);
        assertThat(unit.dmaAliases(BEHIND0)).isEmpty();
        assertThat(unit.dmaAliases(IsolationTest.NIC)).containsExactly(IsolationTest.NIC);
    }

    @Test
    void setContextWritesOnlyTheEntryOfTheIdGiven() {
        aliased.map(G1, IOVA, 0xAAAA_0000L, 1);
        aliased.setContext(BEHIND0, ctx(1, G1));
        assertThat(aliased.deviceTableEntry(0x4300).domainId()).isEqualTo(1);
        assertThat(aliased.deviceTableEntry(0x4208).translates()).isFalse();
        assertThat(aliased.context(BEHIND0)).contains(ctx(1, G1));
        assertThat(aliased.context(BRIDGE)).isEmpty();
        aliased.setContext(BRIDGE, ctx(1, G1));
        assertThat(aliased.context(BRIDGE)).contains(ctx(1, G1));
        assertThat(aliased.attachedDevices()).containsOnlyKeys(BEHIND0, BRIDGE);
        aliased.clearContext(BRIDGE);
        assertThat(aliased.deviceTableEntry(0x4208).translates()).isFalse();
        assertThat(aliased.context(BEHIND0)).contains(ctx(1, G1));
        aliased.clearContext(BRIDGE); // clearing an entry already blocked changes nothing
        aliased.clearContext(BEHIND0);
        assertThat(aliased.hasAttachedDevices()).isFalse();
    }

    @Test
    void theWholeGroupProgrammedTranslatesEveryMemberToItsGuest() {
        aliased.map(G1, IOVA, 0xAAAA_0000L, 1);
        attachGroupMember(aliased, BEHIND0, 1, G1);
        attachGroupMember(aliased, BEHIND1, 1, G1);
        assertThat(hit(aliased.translate(BEHIND0, IOVA))).isEqualTo(0xAAAA_0000L);
        assertThat(hit(aliased.translate(BEHIND1, IOVA))).isEqualTo(0xAAAA_0000L);
        assertThat(aliased.describeContext(BEHIND0)).containsEntry("present", true)
                .containsEntry("requesterId", "0000:42:01.0 (IVHD alias: the DMA is translated with its entry)");
        assertThat(aliased.describeContext(BRIDGE)).containsEntry("present", true)
                .containsEntry("aliasOf", List.of("0000:43:00.0", "0000:43:01.0"));
    }

    /**
     * Sabotage: the guest's entry written on the device's own id only, not on
     * its alias. The hardware never reads the device's own entry (its DMA
     * arrives as 42:01.0), so the device does not reach its guest's pages: a
     * fault while the alias is blocked, and the other owner's memory once the
     * alias points at another guest. This is what programming every id of
     * dmaAliases guards against.
     */
    @Test
    void anEntryOnTheDeviceIdAloneDoesNotReachItsGuest() {
        aliased.map(G1, IOVA, 0xAAAA_0000L, 1);
        aliased.map(G2, IOVA, 0xBBBB_0000L, 1);
        aliased.setContext(BEHIND0, ctx(1, G1)); // the alias 42:01.0 left out
        IsolationTest.wait(aliased, new Invalidation.Device(BEHIND0, DomainId.of(0)), new Invalidation.Domain(DomainId.of(1)));
        Translation t = aliased.translate(BEHIND0, IOVA);
        assertThat(t.isFault()).isTrue();
        assertThat(t.faultReason()).isEqualTo(Event.IO_PAGE_FAULT);
        assertThat(t.fault()).contains("device=0000:42:01.0");

        // the other device behind the bridge goes to guest 2, its whole list programmed
        attachGroupMember(aliased, BEHIND1, 2, G2);
        assertThat(hit(aliased.translate(BEHIND1, IOVA))).isEqualTo(0xBBBB_0000L);
        // 43:00.0's DMA, meant for guest 1, lands in guest 2's page
        assertThat(hit(aliased.translate(BEHIND0, IOVA))).isEqualTo(0xBBBB_0000L);
        assertThat(aliased.context(BEHIND0)).contains(ctx(1, G1));
    }

    @Test
    void anIdThatIsNeitherADeviceNorItsAliasIsRefusedAsBefore() {
        PciAddress elsewhere = PciAddress.parse("44:00.0");
        String message = "unit ivhd1 does not translate 0000:44:00.0: its IVHD names no such device, expected one"
                + " of the devices it claims";
        assertThatThrownBy(() -> aliased.setContext(elsewhere, ctx(1, G1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThatThrownBy(() -> aliased.clearContext(elsewhere))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThatThrownBy(() -> aliased.translate(elsewhere, IOVA))
                .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        assertThat(aliased.describeContext(elsewhere)).isEmpty();
        assertThatThrownBy(() -> unit.setContext(BRIDGE, ctx(1, G1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unit ivhd0 does not translate 0000:42:01.0");
    }
}
