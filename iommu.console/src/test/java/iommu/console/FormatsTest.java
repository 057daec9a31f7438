package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import iommu.api.GuestId;
import iommu.api.PciAddress;
import iommu.console.dto.DeviceListDTO;
import iommu.console.dto.GuestListDTO;
import iommu.console.dto.UnitListDTO;

class FormatsTest {

    private final FakeAssignment da = new FakeAssignment();

    private UnitListDTO units() {
        UnitListDTO r = new UnitListDTO();
        r.units = da.units();
        return r;
    }

    private DeviceListDTO devices() {
        DeviceListDTO r = new DeviceListDTO();
        r.devices = da.devices();
        return r;
    }

    private static GuestListDTO guests(List<iommu.api.dto.GuestDTO> guests) {
        GuestListDTO r = new GuestListDTO();
        r.guests = guests;
        return r;
    }

    @Test
    void unitsJsonHasExactlyTheContractFields() {
        JsonArray units = JsonParser.parseString(Formats.json(units())).getAsJsonArray();
        assertThat(units).hasSize(2);
        JsonObject u = units.get(0).getAsJsonObject();
        assertThat(u.keySet()).containsExactly("id", "vendor", "segment", "registerBase", "includePciAll",
                "domainIds", "reserved", "hostDomainId", "usedDomainIds", "devices");
        assertThat(u.get("id").getAsString()).isEqualTo("dmar0");
        assertThat(u.get("segment").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(u.get("registerBase").getAsString()).isEqualTo("0xfed90000");
        assertThat(u.get("includePciAll").getAsBoolean()).isFalse();
        assertThat(u.get("domainIds").getAsInt()).isEqualTo(256);
        assertThat(u.get("reserved").getAsJsonArray().get(0).getAsInt()).isZero();
        assertThat(u.get("usedDomainIds").getAsJsonPrimitive().isNumber()).isTrue();
        assertThat(u.get("devices").getAsInt()).isEqualTo(4);
    }

    @Test
    void devicesJsonHasNullGuestWhenUnattached() {
        da.attach(GuestId.guest(7), List.of(PciAddress.parse("0000:3b:00.1")));
        JsonArray devices = JsonParser.parseString(JsonWriter.write(da.devices())).getAsJsonArray();
        assertThat(devices).hasSize(8);
        JsonObject first = devices.get(0).getAsJsonObject();
        assertThat(first.keySet()).containsExactly("bdf", "unit", "guest", "reservedMemory", "group", "quarantined",
                "ats");
        assertThat(first.get("guest").isJsonNull()).isTrue();
        assertThat(first.get("reservedMemory").getAsBoolean()).isFalse();
        assertThat(devices.get(7).getAsJsonObject().get("reservedMemory").getAsBoolean()).isTrue();
        JsonObject second = devices.get(1).getAsJsonObject();
        assertThat(second.get("bdf").getAsString()).isEqualTo("0000:3b:00.1");
        assertThat(second.get("guest").getAsInt()).isEqualTo(7);
    }

    @Test
    void guestsJsonNestsDevicesWithUnitAndDid() {
        da.attach(GuestId.guest(3), List.of(PciAddress.parse("0000:3b:00.0"), PciAddress.parse("0000:5e:00.2")));
        JsonArray guests = JsonParser.parseString(JsonWriter.write(da.guests())).getAsJsonArray();
        assertThat(guests).hasSize(1);
        JsonObject g = guests.get(0).getAsJsonObject();
        assertThat(g.keySet()).containsExactly("guest", "devices");
        assertThat(g.get("guest").getAsInt()).isEqualTo(3);
        JsonObject d = g.get("devices").getAsJsonArray().get(1).getAsJsonObject();
        assertThat(d.keySet()).containsExactly("bdf", "unit", "did");
        assertThat(d.get("unit").getAsString()).isEqualTo("dmar1");
        assertThat(d.get("did").getAsInt()).isEqualTo(1);
    }

    @Test
    void emptyListsAreEmptyJsonArraysAndASentenceAsTable() {
        assertThat(JsonParser.parseString(Formats.json(guests(List.of()))).getAsJsonArray()).isEmpty();
        assertThat(Formats.text(guests(List.of()))).isEqualTo("no guest holds a device");
    }

    @Test
    void unitsTableIsAligned() {
        String[] lines = Formats.text(units()).split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).startsWith("UNIT").contains("REGISTER-BASE", "DIDS", "USED", "FREE", "DEVICES");
        assertThat(lines[1]).startsWith("dmar0").contains("0xfed90000", "256");
        // every column starts at the same offset on every line
        int col = lines[0].indexOf("VENDOR");
        assertThat(lines[1].indexOf("vt-d")).isEqualTo(col);
        assertThat(lines[2].indexOf("vt-d")).isEqualTo(col);
    }

    @Test
    void devicesTableShowsDashForTheHost() {
        String t = Formats.text(devices());
        assertThat(t.split("\n")[0]).matches("BDF\\s+UNIT\\s+GUEST\\s+RESERVED-MEM\\s+GROUP\\s+ATS");
        assertThat(t.split("\n")[1]).matches("0000:3b:00\\.0\\s+dmar0\\s+-\\s+no\\s+0\\s+no");
        assertThat(t.split("\n")[8]).matches("0000:5e:00\\.3\\s+dmar1\\s+-\\s+yes\\s+7\\s+no");
    }

    @Test
    void aDmaToTheInterruptRangeIsSaidToBeNoMemoryRatherThanAFault() {
        iommu.api.spi.Translation t = iommu.api.spi.Translation.interruptRange(0xfee00000L, false);
        iommu.console.dto.TranslationDTO r = new iommu.console.dto.TranslationDTO();
        r.bdf = "0000:18:10.0";
        r.unit = "dmar0";
        r.guest = 1;
        r.did = 1;
        r.iova = t.iova();
        r.fault = new iommu.console.dto.FaultDTO();
        r.fault.reason = t.faultReason();
        r.fault.description = t.fault();
        assertThat(Formats.text(r)).isEqualTo("0000:18:10.0 on dmar0 (guest 1, DID 1): IOVA 0xfee00000 -> interrupt"
                + " address range: a DMA read of 0xfee00000-0xfeefffff is an unsupported request, never memory");
        assertThat(t.isInterruptRange()).isTrue();
    }
}
