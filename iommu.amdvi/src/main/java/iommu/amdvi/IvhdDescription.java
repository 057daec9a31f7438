package iommu.amdvi;

import java.util.LinkedHashMap;
import java.util.Map;

import iommu.amdvi.Ivrs.Ivhd;

/** What {@code describe()} shows of a unit's IVHD: its header fields, EFR and IVinfo, then what its entries name. */
final class IvhdDescription {

    private IvhdDescription() {
    }

    /** The IVHD header decoded by name, the EFR (or feature reporting) fields, IVinfo. */
    static Map<String, Object> header(UnitDefinition d) {
        Ivhd ivhd = d.ivhd();
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("ivhdType", String.format("%02xh", ivhd.type()));
        f.put("ivhdOffset", String.format("0x%x", ivhd.offset()));
        f.put("iommuFunction", d.iommuFunction().toString());
        f.put("capabilityOffset", String.format("0x%02x", ivhd.capabilityOffset()));
        int flags = ivhd.flags();
        f.put("flags", String.format("0x%02x", flags));
        f.put("flags.HtTunEn", (flags & 0x01) != 0);
        f.put("flags.PassPW", (flags & 0x02) != 0);
        f.put("flags.ResPassPW", (flags & 0x04) != 0);
        f.put("flags.Isoc", (flags & 0x08) != 0);
        f.put("flags.IotlbSup", (flags & 0x10) != 0);
        f.put("flags.Coherent", (flags & 0x20) != 0);
        f.put("flags.PrefSup", (flags & 0x40) != 0);
        f.put("flags.PPRSup", (flags & 0x80) != 0);
        f.put("info.MsiNum", ivhd.info() & 0x1F);
        f.put("info.UnitID", ivhd.info() >>> 8 & 0x1F);
        long fi = ivhd.featureInfo();
        if (ivhd.type() == 0x10) {
            f.put("featureReporting", String.format("0x%08x", fi));
        } else {
            f.put("attributes", String.format("0x%08x", fi));
            f.put("efrImage", String.format("0x%016x", ivhd.efr()));
            f.put("efr2Image", String.format("0x%016x", ivhd.efr2()));
        }
        f.put("attr.PNCounters", (int) (fi >>> 13) & 0xF);
        f.put("attr.PNBanks", (int) (fi >>> 17) & 0x3F);
        f.put("attr.MsiNumPPR", (int) (fi >>> 23) & 0x1F);
        f.putAll(d.efr().describe());
        long ivinfo = d.ivinfo();
        f.put("ivinfo", String.format("0x%08x", ivinfo));
        f.put("ivinfo.EFRSup", (ivinfo & 1) != 0);
        f.put("ivinfo.DMAGuard", (ivinfo & 2) != 0);
        f.put("ivinfo.GVAsize", (int) (ivinfo >>> 5 & 7));
        f.put("ivinfo.PAsize", (int) (ivinfo >>> 8 & 0x7F));
        f.put("ivinfo.VAsize", (int) (ivinfo >>> 15 & 0x7F));
        return f;
    }

    /** What the device entries name: how many ids, aliases, special devices, ACPI devices, IVMD blocks. */
    static Map<String, Object> entries(UnitDefinition d) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("namedDeviceIds", d.namedCount());
        f.put("aliases", d.aliases().size());
        f.put("specials", d.specials().stream().map(e -> String.format("%s %d at %s",
                e.variety() == Ivrs.DeviceEntry.VARIETY_IOAPIC ? "IOAPIC" : "HPET", e.handle(),
                Bdf.of(e.specialSource()))).toList());
        f.put("acpiDevices", d.acpiDevices().stream().map(e -> e.hid() + (e.uid() == null ? ""
                : " " + e.uid()) + " at " + Bdf.of(e.deviceId())).toList());
        f.put("ivmd", d.ivmds().stream().map(Ivrs.Ivmd::describe).toList());
        return f;
    }
}
