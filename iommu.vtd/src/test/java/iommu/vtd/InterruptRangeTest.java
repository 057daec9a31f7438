package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;
import iommu.api.spi.IovaRegion;
import iommu.api.spi.Translation;

/**
 * DMA to 0xfee00000-0xfeefffff is never remapped to memory, even where a page
 * table maps it (VT-d spec, "Handling Requests to Interrupt Address Range":
 * writes are interrupt requests, reads unsupported requests).
 */
class InterruptRangeTest {

    static final PciAddress NIC = PciAddress.parse("0000:03:00.0");

    @Test
    void theInterruptWindowIsNeverMemoryEvenWhenATableMapsIt() {
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xd2008c40660462L, 0xf050daL, List.of(NIC));
        unit.setContext(NIC, new DeviceContext(DomainId.of(3), GuestId.guest(1)));
        unit.map(GuestId.guest(1), 0xfee00000L, 0x5000, 1); // the model's tables take it; the core never asks
        unit.map(GuestId.guest(1), 0xfef00000L, 0x6000, 1);
        Translation read = unit.translate(NIC, 0xfee00000L);
        assertThat(read.isInterruptRange()).isTrue();
        assertThat(read.fault()).startsWith("interrupt address range: a DMA read");
        assertThat(unit.translate(NIC, 0xfee00ff0L, true).fault()).startsWith("interrupt request: a DMA write");
        assertThat(unit.translate(NIC, 0xfef00000L).hostAddress()).as("just past the window").hasValue(0x6000L);
        assertThat(unit.reservedRegions(NIC)).contains(IovaRegion.INTERRUPT_WINDOW);
    }
}
