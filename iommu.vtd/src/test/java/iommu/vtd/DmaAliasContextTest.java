package iommu.vtd;

import static iommu.vtd.ModelFixtures.CLIENT_CAP;
import static iommu.vtd.ModelFixtures.GUEST_1;
import static iommu.vtd.ModelFixtures.GUEST_2;
import static iommu.vtd.ModelFixtures.QI_ECAP;
import static iommu.vtd.ModelFixtures.ctx;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.Translation;

/**
 * Context entries per requester id: a unit takes a context entry for any id
 * of {@code dmaAliases} (Linux's pci_for_each_dma_alias) of a device it
 * translates, and a DMA reaches it with the last of them; SR-IOV VFs are
 * claimed through their PF (Linux device_lookup_iommu, Xen
 * acpi_find_matched_drhd_unit).
 */
class DmaAliasContextTest {

    static PciAddress bdf(String text) {
        return PciAddress.parse(text);
    }

    static final PciAddress BEHIND_PCIE_TO_PCI_1 = bdf("0000:02:01.0");
    static final PciAddress BEHIND_PCIE_TO_PCI_2 = bdf("0000:02:02.0");
    static final PciAddress PCIE_TO_PCI_ALIAS = bdf("0000:02:00.0");
    static final PciAddress BEHIND_PCI_1 = bdf("0000:03:00.1");
    static final PciAddress PCI_BRIDGE = bdf("0000:00:1e.0");
    static final PciAddress PF = bdf("0000:05:00.0");
    static final PciAddress PF_VF1 = bdf("0000:05:10.0");
    static final long PAGE = 0x10L << 12;

    final UnitRegistry registry;
    final VtdUnit scoped;
    final VtdUnit all;

    DmaAliasContextTest() {
        Platform platform = PlatformFileParser.parse("aliases.txt", List.of(
                "iommu-platform 1",
                "unit dmar0 base=0xfed90000 cap=" + CLIENT_CAP + " ecap=" + QI_ECAP,
                "    scope endpoint 0000:00:02.0",
                "    scope endpoint 0000:05:00.0       # an SR-IOV PF, named alone: its VFs are never named",
                "unit dmar1 base=0xfed91000 cap=" + CLIENT_CAP + " ecap=" + QI_ECAP + " include-pci-all",
                "endpoint 0000:00:02.0",
                "bridge   0000:00:1c.0 01-02",
                "bridge   0000:01:00.0 02-02 kind=pcie-to-pci",
                "endpoint 0000:02:01.0",
                "endpoint 0000:02:02.0",
                "bridge   0000:00:1e.0 03-03 kind=pci",
                "endpoint 0000:03:00.0",
                "endpoint 0000:03:00.1",
                "bridge   0000:00:1d.0 05-05",
                "sriov    0000:05:00.0 totalvfs=8 numvfs=4 offset=128 stride=1"));
        registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "test");
        scoped = registry.unit("dmar0").orElseThrow();
        all = registry.unit("dmar1").orElseThrow();
    }

    @Test
    void dmaAliasesFollowPciForEachDmaAlias() {
        assertThat(all.dmaAliases(BEHIND_PCIE_TO_PCI_1)).containsExactly(BEHIND_PCIE_TO_PCI_1, PCIE_TO_PCI_ALIAS);
        assertThat(all.dmaAliases(BEHIND_PCI_1)).containsExactly(BEHIND_PCI_1, PCI_BRIDGE);
        assertThat(scoped.dmaAliases(bdf("0000:00:02.0"))).containsExactly(bdf("0000:00:02.0"));
        assertThat(scoped.dmaAliases(BEHIND_PCIE_TO_PCI_1)).as("not dmar0's device").isEmpty();
    }

    @Test
    void aContextEntryIsTakenForAnAliasOfTheUnitsDeviceOnly() {
        all.setContext(PCIE_TO_PCI_ALIAS, ctx(1, GUEST_1));
        all.setContext(PCI_BRIDGE, ctx(2, GUEST_2));
        assertThat(all.context(PCIE_TO_PCI_ALIAS)).contains(ctx(1, GUEST_1));
        assertThat(all.describeContext(PCI_BRIDGE)).containsEntry("sourceId", "0x00f0").containsEntry("DID", 2);
        all.clearContext(PCI_BRIDGE);
        assertThat(all.context(PCI_BRIDGE)).isEmpty();

        assertThatThrownBy(() -> scoped.setContext(PCIE_TO_PCI_ALIAS, ctx(1, GUEST_1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit dmar0 does not translate 0000:02:00.0: no such device on the platform,"
                        + " expected one of the devices it claims");
        assertThatThrownBy(() -> all.setContext(bdf("0000:00:1c.0"), ctx(1, GUEST_1)))
                .as("a PCIe root port aliases nothing")
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit dmar1 does not translate 0000:00:1c.0: no such device on the platform,"
                        + " expected one of the devices it claims");
        assertThat(scoped.describeContext(PCIE_TO_PCI_ALIAS)).isEmpty();
    }

    @Test
    void translateLooksUpTheLastAliasAndTheFaultNamesIt() {
        Translation fault = all.translate(BEHIND_PCIE_TO_PCI_1, PAGE);
        assertThat(fault.fault()).isEqualTo("dmar1: [DMA Read] Request device [0000:02:00.0] fault addr 0x10000"
                + " [fault reason 0x01] Present bit in root entry is clear");
        long high = all.readRegister(all.capability().faultRecordingOffset() + 8, 8);
        assertThat(high & 0xFFFF).as("the fault record's SID").isEqualTo(0x0200L);

        all.setContext(PCIE_TO_PCI_ALIAS, ctx(1, GUEST_1));
        all.map(GUEST_1, PAGE, 0xAAAAL << 12, 1);
        assertThat(all.translate(BEHIND_PCIE_TO_PCI_2, PAGE).hostAddress()).hasValue(0xAAAAL << 12);
    }

    /**
     * The bug class of Xen dec403cc66: two devices behind one PCIe-to-PCI
     * bridge, guest 1's context entry put only on its device's own id. The
     * unit sees the bridge's alias, so the device's DMA reaches guest 2 (which
     * owns the alias) or faults, never guest 1's pages.
     */
    @Test
    void sabotage_contextOnlyOnTheOwnIdNotTheAliasMissesTheGuest() {
        all.map(GUEST_1, PAGE, 0xAAAAL << 12, 1);
        all.map(GUEST_2, PAGE, 0xBBBBL << 12, 1);
        all.setContext(BEHIND_PCIE_TO_PCI_1, ctx(1, GUEST_1)); // own id only: the sabotage

        Translation alone = all.translate(BEHIND_PCIE_TO_PCI_1, PAGE);
        assertThat(alone.isFault()).as("the alias has no context entry").isTrue();
        assertThat(alone.faultReason()).isEqualTo(0x2);

        for (PciAddress id : all.dmaAliases(BEHIND_PCIE_TO_PCI_2)) {
            all.setContext(id, ctx(2, GUEST_2)); // guest 2 done right: every alias
        }
        all.invalidate(List.of(new iommu.api.spi.Invalidation.Global())).toCompletableFuture().join();
        Translation stolen = all.translate(BEHIND_PCIE_TO_PCI_1, PAGE);
        assertThat(stolen.hostAddress()).as("guest 1's device reaches guest 2's memory").hasValue(0xBBBBL << 12);
    }

    @Test
    void aVfOfAnEndpointScopedPfBelongsToThePfsUnit_deviceLookupIommuViaPciPhysfn() {
        assertThat(scoped.scopeOf(PF_VF1)).isEqualTo(ScopeMatch.ENDPOINT);
        assertThat(all.scopeOf(PF_VF1)).isEqualTo(ScopeMatch.SEGMENT);
        assertThat(scoped.devices()).containsExactly(bdf("0000:00:02.0"), PF, PF_VF1, bdf("0000:05:10.1"),
                bdf("0000:05:10.2"), bdf("0000:05:10.3"));
        assertThat(all.devices()).doesNotContain(PF, PF_VF1);
        assertThat(registry.bestClaimant(PF_VF1)).contains(scoped);

        scoped.setContext(PF_VF1, ctx(1, GUEST_1)); // the VF keeps its own id
        assertThat(scoped.context(PF_VF1)).contains(ctx(1, GUEST_1));
        assertThat(scoped.context(PF)).isEmpty();
        assertThatThrownBy(() -> all.setContext(PF_VF1, ctx(1, GUEST_1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unit dmar1 does not translate 0000:05:10.0: unit dmar0 claims it (ENDPOINT)");
    }
    /** VFs that cross beyond the bus range of their PF's bridge scope are still matched through the PF. */
    @Test
    void vfsBeyondTheBridgeScopeOfTheirPfStayWithThePfsUnit_acpiFindMatchedDrhdUnitViaPhysfn() {
        Platform platform = PlatformFileParser.parse("vfs.txt", List.of(
                "iommu-platform 1",
                "unit dmar0 base=0xfed90000 cap=" + CLIENT_CAP + " ecap=" + QI_ECAP,
                "    scope bridge 0000:00:1d.0 05-05",
                "unit dmar1 base=0xfed91000 cap=" + CLIENT_CAP + " ecap=" + QI_ECAP + " include-pci-all",
                "bridge   0000:00:1d.0 05-05",
                "sriov    0000:05:00.0 totalvfs=128 numvfs=128 offset=128 stride=2"));
        UnitRegistry units = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        units.addAll(platform.units(), "test");
        VtdUnit dmar0 = units.unit("dmar0").orElseThrow();
        PciAddress onBus6 = platform.inventory().physicalFunction(PF).orElseThrow().vf(128);
        assertThat(onBus6.bus()).isEqualTo(6);
        assertThat(dmar0.scopeOf(onBus6)).isEqualTo(ScopeMatch.BRIDGE);
        assertThat(dmar0.devices()).hasSize(129).contains(onBus6);
        assertThat(units.unit("dmar1").orElseThrow().devices()).isEmpty();
        assertThat(dmar0.dmaAliases(onBus6)).containsExactly(onBus6);
    }
}
