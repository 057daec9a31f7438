package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;
import iommu.api.spi.UnitDescriptor;

/** The embedded default platform is what DESIGN section 1 promises. */
class DefaultPlatformTest {

    private Platform platform;
    private UnitRegistry registry;

    @BeforeEach
    void load() throws IOException {
        platform = VtdPlatform.loadDefault();
        registry = new UnitRegistry(platform.inventory(), UnitPublisher.NONE);
        registry.addAll(platform.units(), "default");
    }

    @Test
    void hasFiveUnitsOfTwoHundredFiftySixDomainIdsOnSegmentZero() {
        assertThat(platform.units()).extracting(UnitDefinition::id)
                .containsExactly("dmar0", "dmar1", "dmar2", "dmar3", "dmar4");
        assertThat(platform.units()).extracting(UnitDefinition::registerBase)
                .containsExactly(0xe0ffc000L, 0xc5ffc000L, 0xaaffc000L, 0x9d7fc000L, 0xfbffc000L);
        assertThat(platform.units()).allSatisfy(u -> {
            assertThat(u.segment()).isZero();
            assertThat(u.cap().nd()).isEqualTo(2);
            assertThat(u.domainIdCount()).isEqualTo(256);
        });
        assertThat(platform.units()).filteredOn(UnitDefinition::includePciAll)
                .extracting(UnitDefinition::id).containsExactly("dmar4");
        assertThat(registry.units()).allSatisfy(u -> {
            assertThat(u.domainIdCount()).isEqualTo(256);
            assertThat(u.reservedDomainIds()).extracting(d -> d.value()).containsExactly(0);
        });
    }

    @Test
    void theNicsUseAtsBelowTheAtsrRootPortsAndNothingElseDoes() {
        UnitRegistry withAts = new UnitRegistry(PciInventory.empty(), UnitPublisher.NONE);
        withAts.admit(platform, "default", false, false);
        assertThat(platform.ats().atsrs()).singleElement().satisfies(a -> assertThat(a.rootPorts()).containsExactly(
                PciAddress.parse("0000:17:00.0"), PciAddress.parse("0000:3a:00.0"), PciAddress.parse("0000:85:00.0")));
        long ats = 0;
        for (VtdUnit unit : withAts.units()) {
            assertThat(unit.extendedCapability().deviceTlb()).isTrue();
            for (PciAddress device : unit.devices()) {
                PciAddress function = platform.inventory().scopedAs(device);
                boolean nic = platform.inventory().physicalFunction(function).isPresent();
                assertThat(unit.hasDeviceTlb(device)).as("%s", device).isEqualTo(nic);
                ats += nic ? 1 : 0;
            }
        }
        assertThat(ats).as("three PFs and their 384 VFs").isEqualTo(387);
    }

    @Test
    void hasThreeNicsOf128VfsUnderThreeDistinctUnits() {
        PciInventory inventory = platform.inventory();
        assertThat(inventory.physicalFunctions()).hasSize(3)
                .allSatisfy(pf -> assertThat(pf.numVfs()).isEqualTo(128));
        assertThat(inventory.virtualFunctions()).hasSize(384);

        Map<String, Long> vfsPerUnit = inventory.virtualFunctions().stream()
                .collect(Collectors.groupingBy(vf -> registry.bestClaimant(vf).orElseThrow().id(), Collectors.counting()));
        assertThat(vfsPerUnit).containsExactlyInAnyOrderEntriesOf(Map.of("dmar0", 128L, "dmar1", 128L, "dmar2", 128L));
        // each NIC sits behind a root port covered by its unit's bridge scope
        for (PciInventory.PhysicalFunction pf : inventory.physicalFunctions()) {
            VtdUnit unit = registry.bestClaimant(pf.address()).orElseThrow();
            assertThat(unit.scopeOf(pf.address())).isEqualTo(ScopeMatch.BRIDGE);
            assertThat(pf.vfs()).allSatisfy(vf -> assertThat(registry.bestClaimant(vf)).containsSame(unit));
        }
        // NIC 2's VFs cross from bus 86 into bus 87
        assertThat(inventory.virtualFunctions()).contains(PciAddress.parse("0000:86:1f.6"), PciAddress.parse("0000:87:00.0"));
    }

    @Test
    void everyDeviceHasExactlyOneUnitAndTheCountsAddUp() {
        assertThat(platform.inventory().devices()).hasSize(402);
        assertThat(platform.inventory().bridges()).hasSize(11);
        Map<String, Integer> perUnit = registry.units().stream()
                .collect(Collectors.toMap(VtdUnit::id, u -> u.devices().size()));
        assertThat(perUnit).containsExactlyInAnyOrderEntriesOf(
                Map.of("dmar0", 130, "dmar1", 131, "dmar2", 129, "dmar3", 2, "dmar4", 10));
        assertThat(perUnit.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(402);
        assertThat(registry.unit("dmar4").orElseThrow().devices()).first().isEqualTo(PciAddress.parse("0000:00:11.5"));
    }

    /**
     * The groups pci_for_each_dma_alias makes of the default platform: the two
     * functions behind the conventional PCI bridge 00:1b.0 share its id; the
     * BMC VGA behind its PCIe-to-PCI bridge is seen as (09, 00.0), itself;
     * every other device is alone.
     */
    @Test
    void pciForEachDmaAliasGroupsTheTwoFunctionsBehindTheConventionalBridge() {
        VtdUnit dmar4 = registry.unit("dmar4").orElseThrow();
        PciAddress bridge = PciAddress.parse("0000:00:1b.0");
        assertThat(dmar4.dmaAliases(PciAddress.parse("0000:0a:00.0")))
                .containsExactly(PciAddress.parse("0000:0a:00.0"), bridge);
        assertThat(dmar4.dmaAliases(PciAddress.parse("0000:0a:00.1")))
                .containsExactly(PciAddress.parse("0000:0a:00.1"), bridge);
        assertThat(dmar4.dmaAliases(PciAddress.parse("0000:09:00.0"))).containsExactly(PciAddress.parse("0000:09:00.0"));
        Map<PciAddress, List<PciAddress>> groups = registry.units().stream()
                .flatMap(u -> u.devices().stream().map(d -> Map.entry(d, u.dmaAliases(d))))
                .collect(Collectors.groupingBy(e -> e.getValue().get(e.getValue().size() - 1), TreeMap::new,
                        Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
        assertThat(groups).hasSize(401);
        assertThat(groups.values().stream().filter(g -> g.size() > 1).toList())
                .containsExactly(List.of(PciAddress.parse("0000:0a:00.0"), PciAddress.parse("0000:0a:00.1")));
    }

    /** With one VF per guest: global admits min(usable) = 255 guests, per-unit all 384. */
    @Test
    void admits255GuestsGloballyAndAll384PerUnit() {
        Map<String, UnitDescriptor> units = registry.units().stream()
                .map(UnitDescriptor::of)
                .collect(Collectors.toMap(UnitDescriptor::unitId, Function.identity()));
        int global = units.values().stream().mapToInt(UnitDescriptor::usable).min().orElse(0);
        assertThat(global).isEqualTo(255);

        Map<String, Long> vfsPerUnit = platform.inventory().virtualFunctions().stream()
                .collect(Collectors.groupingBy(vf -> registry.bestClaimant(vf).orElseThrow().id(), Collectors.counting()));
        long perUnit = vfsPerUnit.entrySet().stream()
                .mapToLong(e -> Math.min(e.getValue(), units.get(e.getKey()).usable()))
                .sum();
        assertThat(perUnit).isEqualTo(384);
        assertThat(Math.min(global, 384)).isEqualTo(255);
    }
}
