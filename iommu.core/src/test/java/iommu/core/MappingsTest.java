package iommu.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.core.assign.DomainIdTable;
import iommu.alloc.perunit.PerUnitStrategy;
import iommu.core.assign.GuestMappings;
import iommu.api.GuestId;
import iommu.api.PciAddress;

class MappingsTest {

    final Fixture f = new Fixture();
    final TestUnit dmar0 = new TestUnit("dmar0", 256, f.events).withDevices(0x10, 2);
    final TestUnit dmar1 = new TestUnit("dmar1", 256, f.events).withDevices(0x20, 2);
    final AssignmentManager m = f.manager("per-unit", List.of(dmar0, dmar1), new PerUnitStrategy());
    final GuestId guest = GuestId.guest(4);
    final PciAddress a0 = dmar0.deviceList().get(0);
    final PciAddress b0 = dmar1.deviceList().get(0);

    @Test
    void mappingsGoToEveryUnitTheGuestReachesNowAndLater() {
        m.attach(guest, List.of(a0));
        f.events.clear();
        m.map(guest, 0x100000, 0x7f000000, 16);
        assertThat(f.events).containsExactly("dmar0 map guest 4 0x100000->0x7f000000 x16");
        f.events.clear();
        m.attach(guest, List.of(b0));
        assertThat(f.events).contains("dmar1 map guest 4 0x100000->0x7f000000 x16");
    }

    @Test
    void unmapInvalidatesTheRangeAndSplitsRuns() {
        m.attach(guest, List.of(a0));
        m.map(guest, 0x0, 0x40000000, 8);
        f.events.clear();
        m.unmap(guest, 0x2000, 2);
        assertThat(f.events).containsExactly("dmar0 unmap guest 4 0x2000 x2", "flush pages 4");
        // the rest of the run stays mapped: mapping over it is refused, mapping into the hole is fine
        assertThatThrownBy(() -> m.map(guest, 0x4000, 0x1000, 1)).hasMessageContaining("already maps 4 pages at IOVA 0x4000");
        m.map(guest, 0x2000, 0x9000, 2);
    }

    @Test
    void aCoreRestartedWithoutAStateDirectoryTakesTheGuestsPagesBackFromTheUnits() {
        PciAddress a = PciAddress.parse("0000:03:00.0");
        PciAddress b = PciAddress.parse("0000:05:00.0");
        iommu.vtd.VtdUnit u0 = iommu.vtd.StandaloneUnit.create("dmar0", FlushOrderingTest.CAP, FlushOrderingTest.ECAP,
                List.of(a));
        iommu.vtd.VtdUnit u1 = iommu.vtd.StandaloneUnit.create("dmar1", 0xfed9_1000L, FlushOrderingTest.CAP,
                FlushOrderingTest.ECAP, 0x10, List.of(b));
        AssignmentManager first = new FlushOrderingTest().platform(2_000, u0, u1);
        first.attach(guest, List.of(a, b));
        first.map(guest, 0x10_0000, 0x4000_0000, 4);
        first.map(guest, 0x10_4000, 0x4000_4000, 2); // one run with the first, read back
        first.deactivate(); // the core's bundle restarts; no state directory: nothing on disk

        AssignmentManager again = new FlushOrderingTest().platform(2_000, u0, u1);
        assertThat(again.guests()).singleElement().satisfies(g -> assertThat(g.devices).hasSize(2));
        // the pages are known again: mapping over them is refused, unmapping them reaches both units
        assertThatThrownBy(() -> again.map(guest, 0x10_2000, 0x9000, 1))
                .hasMessageContaining("already maps 6 pages at IOVA 0x100000");
        again.unmap(guest, 0x10_0000, 6);
        assertThat(u0.translate(a, 0x10_5000).isFault()).isTrue();
        assertThat(u1.translate(b, 0x10_0000).isFault()).isTrue();
        assertThat(again.audit()).isEmpty();
    }

    /** A bundle context with a data area and a framework launch id, for the ephemeral core's snapshot. */
    static org.osgi.framework.BundleContext bundle(java.nio.file.Path area, String launch) {
        return (org.osgi.framework.BundleContext) java.lang.reflect.Proxy.newProxyInstance(
                MappingsTest.class.getClassLoader(), new Class<?>[] {org.osgi.framework.BundleContext.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getDataFile" -> area.resolve((String) args[0]).toFile();
                    case "getProperty" -> org.osgi.framework.Constants.FRAMEWORK_UUID.equals(args[0]) ? launch : null;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    AssignmentManager ephemeralCore(org.osgi.framework.BundleContext context, iommu.vtd.VtdUnit unit) {
        DomainIdTable table = new DomainIdTable();
        iommu.flush.FlushServiceImpl flush = new iommu.flush.FlushServiceImpl(null, table, Fixture.silentLogger(),
                FlushOrderingTest.timeout(2_000));
        AssignmentManager core = new AssignmentManager(context, table, flush, Fixture.silentLogger(),
                Fixture.config("per-unit"));
        flush.bindUnit(unit);
        core.bindUnit(unit);
        core.bindStrategy(new PerUnitStrategy(), java.util.Map.of("name", "per-unit"));
        core.activate();
        return core;
    }

    @Test
    void anEphemeralCoreKeepsTheDevicelessGuestsPagesAcrossARestartOfItsBundleOnly(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path area) {
        PciAddress a = PciAddress.parse("0000:03:00.0");
        iommu.vtd.VtdUnit unit = iommu.vtd.StandaloneUnit.create("dmar0", FlushOrderingTest.CAP, FlushOrderingTest.ECAP,
                List.of(a));
        AssignmentManager first = ephemeralCore(bundle(area, "launch-1"), unit);
        first.map(guest, 0x10_0000, 0x4000_0000, 2); // a guest with no device: its pages are on no unit
        assertThat(first.state().directory).isNull();
        first.deactivate();

        AssignmentManager again = ephemeralCore(bundle(area, "launch-1"), unit); // the bundle restarted
        assertThatThrownBy(() -> again.map(guest, 0x10_1000, 0x9000, 1))
                .hasMessageContaining("already maps 2 pages at IOVA 0x100000");
        again.attach(guest, List.of(a)); // and they reach the guest's first unit
        assertThat(unit.translate(a, 0x10_1000).hostAddress()).hasValue(0x4000_1000L);
        again.detach(List.of(a));
        again.deactivate();

        AssignmentManager nextLaunch = ephemeralCore(bundle(area, "launch-2"), unit); // a new process: nothing kept
        nextLaunch.map(guest, 0x10_1000, 0x9000, 1);
        assertThat(nextLaunch.state().directory).isNull();
    }

    @Test
    void badRangesAreRefused() {
        assertThatThrownBy(() -> m.map(guest, 0x1001, 0x2000, 1)).hasMessageContaining("IOVA 0x1001 is not 4 KiB aligned");
        assertThatThrownBy(() -> m.map(guest, 0x1000, 0x2000, 0)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> m.map(GuestId.HOST, 0x1000, 0x2000, 1)).hasMessageContaining("host");
        assertThatThrownBy(() -> m.map(guest, 0xFFFFFFFFFFFFF000L, 0x2000, 2)).hasMessageContaining("run past the end");
    }

    @Test
    void runsSplitAtBothEdges() {
        GuestMappings g = new GuestMappings();
        g.add(0x0, 0x100000, 10);
        g.remove(0x3000, 2);
        assertThat(g.runs()).containsExactly(new GuestMappings.Run(0, 0x100, 3), new GuestMappings.Run(5, 0x105, 5));
        g.remove(0x0, 100);
        assertThat(g.isEmpty()).isTrue();
    }
}
