package iommu.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import iommu.api.DomainId;
import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.api.spi.DeviceContext;

/** What iommu:unit and iommu:ctx show: registers and context entries decoded by name. */
class DescribeTest {

    static final PciAddress NIC = PciAddress.parse("0000:03:00.0");

    @Test
    void capAndEcapFieldsByName() {
        // the client PCH unit of ../shared/data/README.md: ND 2, MGAW 39, FRO 0x400, PSI, NFR 1, MAMV 18
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xd2008c40660462L, 0xf050daL, List.of(NIC));
        assertThat(unit.describe())
                .containsEntry("CAP", "0xd2008c40660462").containsEntry("CAP.ND", 2).containsEntry("NR_DID", 256)
                .containsEntry("CAP.CM", false).containsEntry("CAP.SAGAW", "0b00100").containsEntry("CAP.MGAW", 39)
                .containsEntry("CAP.FRO", "0x400").containsEntry("CAP.PSI", true).containsEntry("CAP.NFR", 1)
                .containsEntry("CAP.MAMV", 18).containsEntry("ECAP.QI", true).containsEntry("VER", "1.0")
                // SAGAW 0b00100 offers 4-level tables only: AW 2, 48-bit, above MGAW 39 as Linux allows
                .containsEntry("addressWidth", "AW 2: 48-bit, 4-level tables");
    }

    @Test
    void theContextEntryAsMemoryHoldsIt() {
        VtdUnit unit = StandaloneUnit.create("dmar9", 0xd2008c40660462L, 0xf050daL, List.of(NIC));
        assertThat(unit.describeContext(NIC)).containsEntry("present", false).containsEntry("DID", 0);
        unit.setContext(NIC, new DeviceContext(DomainId.of(0x2a), GuestId.guest(7)));
        var fields = unit.describeContext(NIC);
        assertThat(fields).containsEntry("present", true).containsEntry("DID", 0x2a).containsEntry("TT", 0)
                .containsEntry("AW", 2).containsEntry("guest", 7).containsEntry("sourceId", "0x0300");
        // DID sits in bits 87:72, AW in 66:64 of the 128-bit entry
        String raw = ((String) fields.get("raw")).substring(2);
        long high = Long.parseUnsignedLong(raw.substring(0, 16), 16);
        assertThat((high >>> 8) & 0xFFFF).isEqualTo(0x2a);
        assertThat(high & 0x7).isEqualTo(2);
        assertThat(unit.describeContext(PciAddress.parse("0000:09:00.0"))).isEmpty();
    }
}
