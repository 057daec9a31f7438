package iommu.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Hashtable;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectService;

import iommu.api.DeviceAssignment;
import iommu.api.GuestId;
import iommu.api.PciAddress;

/** Units also come from Config Admin factory configurations, at runtime; the core follows them. */
class UnitConfigurationTest {

    static final String GBE = "0000:00:1f.6";

    @InjectService
    DeviceAssignment assignment;
    @InjectService
    ConfigurationAdmin cm;

    @BeforeEach
    @AfterEach
    void reset() throws Exception {
        Platform.reset(cm, assignment);
        for (Configuration c : cm.listConfigurations("(service.factoryPid=iommu.vtd.unit)") == null ? new Configuration[0]
                : cm.listConfigurations("(service.factoryPid=iommu.vtd.unit)")) {
            c.delete();
        }
        Platform.await("configured units to go", () -> assignment.units().stream().noneMatch(u -> u.id.startsWith("test")));
    }

    static Hashtable<String, Object> unit(String id, String cap) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("id", id);
        props.put("segment", 0);
        props.put("registerBase", "0xfed91000");
        props.put("cap", cap);
        props.put("ecap", "f050da");
        props.put("includePciAll", false);
        props.put("scope", new String[] {"endpoint " + GBE});
        return props;
    }

    String unitOfGbe() {
        return assignment.devices().stream().filter(d -> d.bdf.equals(GBE)).findFirst().orElseThrow().unit;
    }

    @Test
    void aConfiguredUnitAppearsTakesItsDevicesAndGoesWhenDeleted() throws Exception {
        String before = unitOfGbe();
        Configuration config = cm.createFactoryConfiguration("iommu.vtd.unit", "?");
        config.update(unit("test0", "d2008c40660462"));
        Platform.await("unit test0 to appear", () -> assignment.units().stream().anyMatch(u -> u.id.equals("test0")));
        // an endpoint scope beats the INCLUDE_PCI_ALL unit that had the device
        assertThat(unitOfGbe()).isEqualTo("test0");
        var test0 = assignment.units().stream().filter(u -> u.id.equals("test0")).findFirst().orElseThrow();
        assertThat(test0.domainIds).isEqualTo(256);
        assertThat(test0.registerBase).isEqualTo(0xfed91000L);
        assertThat(test0.devices).isEqualTo(1);
        assertThat(assignment.attach(GuestId.guest(9), List.of(PciAddress.parse(GBE))).devices.get(0).unit)
                .isEqualTo("test0");
        assignment.detach(List.of(PciAddress.parse(GBE)));

        config.delete();
        Platform.await("unit test0 to go", () -> assignment.units().stream().noneMatch(u -> u.id.equals("test0")));
        assertThat(unitOfGbe()).isEqualTo(before);
    }

    @Test
    void aMalformedConfigurationRegistersNoUnitAndChangesNothing() throws Exception {
        String before = Platform.state(assignment);
        Configuration bad = cm.createFactoryConfiguration("iommu.vtd.unit", "?");
        bad.update(unit("test1", "not-hex"));
        // a well-formed one after it shows the configurations were processed
        Configuration good = cm.createFactoryConfiguration("iommu.vtd.unit", "?");
        Hashtable<String, Object> props = unit("test2", "d2008c40660462");
        props.put("scope", new String[0]);
        good.update(props);
        Platform.await("unit test2 to appear", () -> assignment.units().stream().anyMatch(u -> u.id.equals("test2")));
        assertThat(assignment.units()).noneMatch(u -> u.id.equals("test1"));
        good.delete();
        Platform.await("unit test2 to go", () -> assignment.units().stream().noneMatch(u -> u.id.equals("test2")));
        assertThat(Platform.state(assignment)).isEqualTo(before);
    }
}
