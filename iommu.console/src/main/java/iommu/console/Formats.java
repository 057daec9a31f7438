package iommu.console;

import java.util.ArrayList;
import java.util.List;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import iommu.api.dto.DeviceDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.UnitDTO;

/**
 * How the listing commands print: aligned tables for people, JSON for
 * scripts. The JSON shapes are a contract (scripts read them), so they are
 * built from classes of this bundle whose field order and names are fixed
 * here, not from whatever fields the API DTOs grow later.
 */
final class Formats {

    static final Gson GSON = new GsonBuilder()
            .serializeNulls() // an unattached device has "guest": null
            .disableHtmlEscaping()
            .setPrettyPrinting()
            .create();

    private Formats() {
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    /** Any JSON value (maps keep their insertion order: field order is part of the contract). */
    static String json(Object value) {
        return GSON.toJson(value);
    }

    // ---- units

    /** JSON shape of one unit. */
    static final class UnitJson {
        String id;
        String vendor;
        int segment;
        String registerBase;
        boolean includePciAll;
        int domainIds;
        int[] reserved;
        int usedDomainIds;
        int devices;
    }

    static String unitsJson(List<UnitDTO> units) {
        List<UnitJson> out = new ArrayList<>();
        for (UnitDTO u : units) {
            UnitJson j = new UnitJson();
            j.id = u.id;
            j.vendor = u.vendor;
            j.segment = u.segment;
            j.registerBase = hex(u.registerBase);
            j.includePciAll = u.includePciAll;
            j.domainIds = u.domainIds;
            j.reserved = u.reserved == null ? new int[0] : u.reserved.clone();
            j.usedDomainIds = u.usedDomainIds;
            j.devices = u.devices;
            out.add(j);
        }
        return GSON.toJson(out);
    }

    static String unitsTable(List<UnitDTO> units) {
        if (units.isEmpty()) {
            return "no IOMMU unit present";
        }
        Table t = new Table("UNIT", "VENDOR", "SEGMENT", "REGISTER-BASE", "PCI-ALL", "DIDS", "RESERVED", "USED", "FREE",
                "DEVICES")
                .alignRight(2, 5, 7, 8, 9);
        for (UnitDTO u : units) {
            int reserved = u.reserved == null ? 0 : u.reserved.length;
            t.row(u.id, u.vendor, String.format("%04x", u.segment), hex(u.registerBase), u.includePciAll ? "yes" : "no",
                    u.domainIds, reservedText(u.reserved), u.usedDomainIds,
                    Math.max(0, u.domainIds - reserved - u.usedDomainIds), u.devices);
        }
        return t.render();
    }

    private static String reservedText(int[] reserved) {
        if (reserved == null || reserved.length == 0) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < reserved.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(reserved[i]);
        }
        return sb.toString();
    }

    // ---- devices

    /** JSON shape of one device. */
    static final class DeviceJson {
        String bdf;
        String unit;
        Integer guest;
        boolean reservedMemory;
    }

    static String devicesJson(List<DeviceDTO> devices) {
        List<DeviceJson> out = new ArrayList<>();
        for (DeviceDTO d : devices) {
            DeviceJson j = new DeviceJson();
            j.bdf = d.bdf;
            j.unit = d.unit;
            j.guest = d.guest;
            j.reservedMemory = d.reservedMemory;
            out.add(j);
        }
        return GSON.toJson(out);
    }

    static String devicesTable(List<DeviceDTO> devices) {
        if (devices.isEmpty()) {
            return "no PCI device present";
        }
        Table t = new Table("BDF", "UNIT", "GUEST", "RESERVED-MEM").alignRight(2);
        for (DeviceDTO d : devices) {
            t.row(d.bdf, d.unit, d.guest, d.reservedMemory ? "yes" : "no");
        }
        return t.render();
    }

    // ---- guests

    /** JSON shape of one guest. */
    static final class GuestJson {
        int guest;
        List<GuestDeviceJson> devices;
    }

    /** JSON shape of one device of a guest. */
    static final class GuestDeviceJson {
        String bdf;
        String unit;
        int did;
    }

    static String guestsJson(List<GuestDTO> guests) {
        List<GuestJson> out = new ArrayList<>();
        for (GuestDTO g : guests) {
            GuestJson j = new GuestJson();
            j.guest = g.guest;
            j.devices = new ArrayList<>();
            if (g.devices != null) {
                for (GuestDeviceDTO d : g.devices) {
                    GuestDeviceJson dj = new GuestDeviceJson();
                    dj.bdf = d.bdf;
                    dj.unit = d.unit;
                    dj.did = d.did;
                    j.devices.add(dj);
                }
            }
            out.add(j);
        }
        return GSON.toJson(out);
    }

    static String guestsTable(List<GuestDTO> guests) {
        if (guests.isEmpty()) {
            return "no guest holds a device";
        }
        Table t = new Table("GUEST", "BDF", "UNIT", "DID").alignRight(0, 3);
        for (GuestDTO g : guests) {
            addGuestRows(t, g);
        }
        return t.render();
    }

    /** One guest and its devices, as attach prints it. */
    static String guestTable(GuestDTO g) {
        Table t = new Table("GUEST", "BDF", "UNIT", "DID").alignRight(0, 3);
        addGuestRows(t, g);
        return t.render();
    }

    private static void addGuestRows(Table t, GuestDTO g) {
        if (g.devices == null || g.devices.isEmpty()) {
            t.row(g.guest, null, null, null);
            return;
        }
        for (GuestDeviceDTO d : g.devices) {
            t.row(g.guest, d.bdf, d.unit, d.did);
        }
    }
}
