package iommu.amdvi;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import iommu.amdvi.Ivrs.DeviceEntry;
import iommu.amdvi.Ivrs.Ivhd;
import iommu.amdvi.Ivrs.Ivmd;
import iommu.api.PciAddress;
import iommu.api.spi.ScopeMatch;

/**
 * One AMD-Vi IOMMU as its IVHD block describes it, resolved: which device ids
 * it translates (select entries, every id of a range, both ends of an alias,
 * IOAPIC/HPET and ACPI HID sources), which requester id each device's DMA
 * arrives with (alias entries), the DTE setting firmware asks for, and the
 * IVMD blocks that reserve memory for its devices. Immutable.
 */
final class UnitDefinition {

    private final String id;
    private final Ivhd ivhd;
    private final long ivinfo;
    private final BitSet claimed;
    private final boolean all;
    private final int allSetting;
    private final Map<Integer, Integer> settings;
    private final Map<Integer, Long> extendedSettings;
    private final Map<Integer, Integer> aliases;
    private final List<DeviceEntry> specials;
    private final List<DeviceEntry> acpiDevices;
    private final List<Ivmd> ivmds;
    /** Ids this unit does not translate though its entries name them or its ALL entry covers them. */
    private final BitSet excluded;
    private final int lastDeviceId;

    private UnitDefinition(String id, Ivhd ivhd, long ivinfo, BitSet claimed, boolean all, int allSetting,
            Map<Integer, Integer> settings, Map<Integer, Long> extendedSettings, Map<Integer, Integer> aliases,
            List<DeviceEntry> specials, List<DeviceEntry> acpiDevices, List<Ivmd> ivmds, BitSet excluded,
            int lastDeviceId) {
        this.id = Objects.requireNonNull(id, "id");
        this.ivhd = ivhd;
        this.ivinfo = ivinfo;
        this.claimed = claimed;
        this.all = all;
        this.allSetting = allSetting;
        this.settings = settings;
        this.extendedSettings = extendedSettings;
        this.aliases = aliases;
        this.specials = specials;
        this.acpiDevices = acpiDevices;
        this.ivmds = ivmds;
        this.excluded = excluded;
        this.lastDeviceId = lastDeviceId;
    }

    /**
     * Resolves one IVHD block (well-formed, as the parser checked it) with the
     * IVMD blocks of the table, as Linux's {@code init_iommu_from_acpi} does.
     */
    static UnitDefinition of(String id, Ivhd ivhd, long ivinfo, List<Ivmd> allIvmds) {
        BitSet claimed = new BitSet(0x10000);
        Map<Integer, Integer> settings = new HashMap<>();
        Map<Integer, Long> extended = new HashMap<>();
        Map<Integer, Integer> aliases = new HashMap<>();
        List<DeviceEntry> specials = new ArrayList<>();
        List<DeviceEntry> acpi = new ArrayList<>();
        boolean all = false;
        int allSetting = 0;
        DeviceEntry start = null;
        for (DeviceEntry e : ivhd.entries()) {
            switch (e.type()) {
                case DeviceEntry.ALL -> {
                    all = true;
                    allSetting = e.setting();
                }
                case DeviceEntry.SELECT -> claim(claimed, settings, e.deviceId(), e.setting());
                case DeviceEntry.EXT_SELECT -> {
                    claim(claimed, settings, e.deviceId(), e.setting());
                    extended.put(e.deviceId(), e.data());
                }
                case DeviceEntry.ALIAS_SELECT -> {
                    claim(claimed, settings, e.deviceId(), e.setting());
                    claim(claimed, settings, e.aliasSource(), e.setting());
                    if (e.aliasSource() != e.deviceId()) {
                        aliases.put(e.deviceId(), e.aliasSource());
                    }
                }
                case DeviceEntry.RANGE_START, DeviceEntry.ALIAS_RANGE, DeviceEntry.EXT_RANGE -> start = e;
                case DeviceEntry.RANGE_END -> {
                    for (int d = start.deviceId(); d <= e.deviceId(); d++) {
                        claim(claimed, settings, d, start.setting());
                        if (start.type() == DeviceEntry.EXT_RANGE) {
                            extended.put(d, start.data());
                        } else if (start.type() == DeviceEntry.ALIAS_RANGE && start.aliasSource() != d) {
                            aliases.put(d, start.aliasSource());
                        }
                    }
                    if (start.type() == DeviceEntry.ALIAS_RANGE) {
                        claim(claimed, settings, start.aliasSource(), start.setting());
                    }
                    start = null;
                }
                case DeviceEntry.SPECIAL -> {
                    specials.add(e);
                    claim(claimed, settings, e.specialSource(), e.setting());
                }
                case DeviceEntry.ACPI_HID -> {
                    acpi.add(e);
                    claim(claimed, settings, e.deviceId(), e.setting());
                }
                default -> {
                    // padding and reserved types name no device
                }
            }
        }
        List<Ivmd> ivmds = allIvmds.stream().filter(m -> m.segment() == ivhd.segment()).toList();
        return new UnitDefinition(id, ivhd, ivinfo, claimed, all, allSetting, Map.copyOf(settings),
                Map.copyOf(extended), Map.copyOf(aliases), List.copyOf(specials), List.copyOf(acpi), ivmds,
                new BitSet(), all ? 0xFFFF : Math.max(0, claimed.length() - 1));
    }

    private static void claim(BitSet claimed, Map<Integer, Integer> settings, int deviceId, int setting) {
        claimed.set(deviceId);
        if (setting != 0) {
            settings.merge(deviceId, setting, (a, b) -> a | b); // Linux sets DTE bits, never clears them
        }
    }

    /** The same IOMMU under another id. */
    UnitDefinition withId(String newId) {
        return new UnitDefinition(newId, ivhd, ivinfo, claimed, all, allSetting, settings, extendedSettings, aliases,
                specials, acpiDevices, ivmds, excluded, lastDeviceId);
    }

    /**
     * The same IOMMU no longer translating the ids (neither named nor under
     * its ALL entry), as {@link IvhdClaims} decides; its device table keeps
     * its size (Linux sizes it from every id the IVHDs name).
     */
    UnitDefinition withoutClaims(BitSet ids) {
        BitSet keep = (BitSet) claimed.clone();
        keep.andNot(ids);
        BitSet out = (BitSet) excluded.clone();
        out.or(ids);
        return new UnitDefinition(id, ivhd, ivinfo, keep, all, allSetting, settings, extendedSettings, aliases,
                specials, acpiDevices, ivmds, out, lastDeviceId);
    }

    String id() {
        return id;
    }

    Ivhd ivhd() {
        return ivhd;
    }

    long ivinfo() {
        return ivinfo;
    }

    int segment() {
        return ivhd.segment();
    }

    long registerBase() {
        return ivhd.baseAddress();
    }

    /** The IOMMU's own PCI function. */
    PciAddress iommuFunction() {
        return PciAddress.ofRoutingId(segment(), ivhd.deviceId());
    }

    /**
     * The Extended Feature Register: the IVHD's image for types 11h/40h; for
     * type 10h, what its feature reporting field says, placed where the EFR
     * has those fields.
     */
    Efr efr() {
        return ivhd.type() == 0x10 ? Efr.fromFeatureReporting(ivhd.featureInfo()) : new Efr(ivhd.efr());
    }

    /** An IVHD ALL entry: the unit translates every device of its segment no other unit names. */
    boolean includesAll() {
        return all;
    }

    /** The highest device id the unit's device table must hold (Linux's last_bdf for this IVHD). */
    int lastDeviceId() {
        int last = lastDeviceId;
        for (int alias : aliases.values()) {
            last = Math.max(last, alias);
        }
        return last;
    }

    ScopeMatch scopeOf(PciAddress device) {
        if (device.segment() != segment() || excluded.get(device.routingId())) {
            return ScopeMatch.NONE;
        }
        if (claimed.get(device.routingId())) {
            return ScopeMatch.ENDPOINT;
        }
        return all ? ScopeMatch.SEGMENT : ScopeMatch.NONE;
    }

    /** The device ids the IVHD names, ascending. */
    BitSet named() {
        return (BitSet) claimed.clone();
    }

    int namedCount() {
        return claimed.cardinality();
    }

    /** The requester id the device's DMA arrives with at the unit: its alias, else its own id. */
    int requesterId(int deviceId) {
        return aliases.getOrDefault(deviceId, deviceId);
    }

    /** The IVHD's alias entries as Linux's alias table holds them. */
    AliasTable aliasTable() {
        return new AliasTable(segment(), aliases);
    }

    Map<Integer, Integer> aliases() {
        return Collections.unmodifiableMap(aliases);
    }

    /** The DTE setting byte firmware gives the device (INITPass, EIntPass, NMIPass, SysMgt, Lint0/1Pass). */
    int setting(int deviceId) {
        Integer s = settings.get(deviceId);
        return s != null ? s : (all ? allSetting : 0);
    }

    /** The extended setting of an extended select/range entry (bit 31: ATS disabled), else 0. */
    long extendedSetting(int deviceId) {
        return extendedSettings.getOrDefault(deviceId, 0L);
    }

    List<DeviceEntry> specials() {
        return specials;
    }

    List<DeviceEntry> acpiDevices() {
        return acpiDevices;
    }

    /** The IVMD blocks of the unit's segment. */
    List<Ivmd> ivmds() {
        return ivmds;
    }

    /** Whether an IVMD block reserves memory for the device, or for the requester id it uses. */
    boolean hasReservedMemory(PciAddress device) {
        if (device.segment() != segment()) {
            return false;
        }
        int id = device.routingId();
        int rid = requesterId(id);
        for (Ivmd m : ivmds) {
            if (m.covers(device.segment(), id) || m.covers(device.segment(), rid)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The unity-mapped ranges of the IVMD blocks naming the device or the
     * requester id it uses, as Linux's {@code amd_iommu_get_resv_regions}
     * reports them (IOMMU_RESV_DIRECT; an exclusion range too, which Linux
     * treats as a unity map), each page-aligned outward.
     */
    List<iommu.api.spi.IovaRegion> unityRegions(PciAddress device) {
        List<iommu.api.spi.IovaRegion> regions = new ArrayList<>();
        if (device.segment() != segment()) {
            return regions;
        }
        int id = device.routingId();
        int rid = requesterId(id);
        for (Ivmd m : ivmds) {
            if ((m.covers(device.segment(), id) || m.covers(device.segment(), rid)) && m.blockLength() > 0) {
                long first = m.start() & ~0xFFFL;
                long last = (m.start() + m.blockLength() - 1) | 0xFFFL;
                regions.add(new iommu.api.spi.IovaRegion(first, last, iommu.api.spi.IovaRegion.Type.DIRECT));
            }
        }
        return regions;
    }

    @Override
    public String toString() {
        return String.format("%s (amd-vi, IVHD %02xh, IOMMU %s, base 0x%x, %d device ids%s)", id, ivhd.type(),
                iommuFunction(), registerBase(), namedCount(), all ? ", ALL" : "");
    }
}
