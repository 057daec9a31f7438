package iommu.vtd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import iommu.api.PciAddress;

/**
 * Reads a directory shaped like Linux sysfs ({@code /sys} on a VT-d host, or
 * a copy of the parts that matter):
 * <ul>
 * <li>{@code class/iommu/dmar*&#47;intel-iommu/{address,cap,ecap,version}}: each
 * unit's register base, CAP and ECAP (hexadecimal, {@code 0x} optional) and
 * VER ({@code MAJOR:MINOR});</li>
 * <li>{@code class/iommu/dmar*&#47;devices/*}: the devices Linux put behind the
 * unit, entries (symbolic links on a real host) named {@code SSSS:BB:DD.F};</li>
 * <li>{@code bus/pci/devices/SSSS:BB:DD.F/}: the PCI functions; a PF has
 * {@code sriov_totalvfs}, {@code sriov_numvfs}, {@code sriov_offset},
 * {@code sriov_stride} (decimal); a bridge {@code secondary_bus_number} and
 * {@code subordinate_bus_number} (decimal) and its kind from {@code config},
 * its configuration space ({@link PciConfigSpace}: header type, PCI Express
 * capability's device/port type; without {@code config} a PCIe port); an
 * endpoint or PF its ATS capability from {@code config} (extended capability
 * 0x0F; a VF has its PF's); a VF a
 * {@code physfn} link (VFs
 * are computed from their PF, the entries are checked against that);</li>
 * <li>{@code firmware/acpi/tables/DMAR}, when present: the DMAR, which then
 * gives the units, INCLUDE_PCI_ALL and the scopes (walked through the bridges
 * above), the RMRRs, ATSRs and SATCs; {@code class/iommu} gives each unit's CAP/ECAP by
 * register base.</li>
 * </ul>
 * Without a DMAR, each {@code class/iommu} unit becomes a unit whose endpoint
 * scopes are its {@code devices} entries (no INCLUDE_PCI_ALL: sysfs does not
 * say), on the segment of those devices.
 *
 * <p>Everything is read and checked before the platform is returned; a
 * malformed file is a {@link PlatformFormatException} whose one-line message
 * names the file and what was expected.
 */
public final class SysfsReader {

    private static final Pattern BDF = Pattern.compile("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
    private static final Pattern VERSION = Pattern.compile("([0-9]{1,3}):([0-9]{1,3})");
    private static final Pattern UNIT_NAME = Pattern.compile("dmar([0-9]+)");
    private static final long MAX_FILE = 4096;

    static final String IOMMU_CLASS = "class/iommu";
    static final String PCI_DEVICES = "bus/pci/devices";
    static final String DMAR_TABLE = "firmware/acpi/tables/DMAR";

    private SysfsReader() {
    }

    /** Whether the directory has the shape of sysfs: class/iommu, bus/pci/devices or the DMAR table. */
    public static boolean looksLikeSysfs(Path dir) {
        return Files.isDirectory(dir) && (Files.isDirectory(dir.resolve(IOMMU_CLASS))
                || Files.isDirectory(dir.resolve(PCI_DEVICES)) || Files.isRegularFile(dir.resolve(DMAR_TABLE)));
    }

    /** One {@code class/iommu} unit as sysfs shows it. */
    record SysfsUnit(String name, Path dir, long address, Capability cap, ExtendedCapability ecap, int major,
            int minor, List<PciAddress> devices) {
    }

    /**
     * Reads the tree.
     *
     * @throws PlatformFormatException naming the file at fault and what was expected
     * @throws IOException when a directory cannot be listed
     */
    public static Platform read(Path root) throws IOException {
        if (!looksLikeSysfs(root)) {
            throw new PlatformFormatException(root.toString(), "no " + IOMMU_CLASS + ", " + PCI_DEVICES + " or "
                    + DMAR_TABLE + ": expected a sysfs-shaped directory (/sys of a VT-d host)");
        }
        List<String> warnings = new ArrayList<>();
        PciInventory inventory = inventory(root.resolve(PCI_DEVICES), warnings);
        List<SysfsUnit> sysfsUnits = units(root.resolve(IOMMU_CLASS));
        Path dmarFile = root.resolve(DMAR_TABLE);
        if (Files.isRegularFile(dmarFile)) {
            DmarTable table = DmarParser.parse(dmarFile);
            Map<Long, SysfsUnit> byAddress = new HashMap<>();
            sysfsUnits.forEach(u -> byAddress.put(u.address(), u));
            Set<Long> bases = new HashSet<>();
            for (DmarTable.Drhd drhd : table.drhds()) {
                bases.add(drhd.registerBase());
                if (!byAddress.containsKey(drhd.registerBase())) {
                    warnings.add(String.format("%s: %s: register base 0x%x has no %s/dmar*/intel-iommu/address: the"
                            + " unit gets the default CAP %x and ECAP %x", root, drhd.describe(), drhd.registerBase(),
                            IOMMU_CLASS, DmarUnits.DEFAULT_CAP, DmarUnits.DEFAULT_ECAP));
                }
            }
            for (SysfsUnit unit : sysfsUnits) {
                if (!bases.contains(unit.address())) {
                    warnings.add(String.format("%s: address 0x%x is no DRHD's register base in %s: expected one;"
                            + " unit ignored", unit.dir().resolve("intel-iommu/address"), unit.address(), dmarFile));
                }
            }
            Platform platform = DmarUnits.platform(table, inventory, drhd -> {
                SysfsUnit unit = byAddress.get(drhd.registerBase());
                return unit == null ? null : new DmarUnits.UnitRegisters(unit.cap(), unit.ecap());
            }, Platform.SYSFS, warnings);
            return platform.withSource(root.toString());
        }
        if (sysfsUnits.isEmpty()) {
            throw new PlatformFormatException(root.toString(), "no VT-d unit: expected " + IOMMU_CLASS
                    + "/dmar*/intel-iommu or " + DMAR_TABLE);
        }
        List<UnitDefinition> units = new ArrayList<>();
        Map<UnitDefinition, SysfsUnit> origins = new HashMap<>();
        for (SysfsUnit unit : sysfsUnits) {
            Path devicesDir = unit.dir().resolve("devices");
            Set<Integer> segments = new HashSet<>();
            unit.devices().forEach(d -> segments.add(d.segment()));
            if (segments.size() > 1) {
                throw new PlatformFormatException(devicesDir.toString(), "devices on segments " + segments
                        + ": expected the devices of one unit on one PCI segment");
            }
            int segment = segments.isEmpty() ? 0 : segments.iterator().next();
            List<DeviceScope> scopes = unit.devices().stream()
                    .filter(d -> inventory.function(d).map(f -> f.kind() != PciInventory.Kind.BRIDGE).orElse(true))
                    .map(DeviceScope::endpoint)
                    .toList();
            String id = UnitDefinition.ID.matcher(unit.name()).matches() ? unit.name() : "dmar" + units.size();
            UnitDefinition definition;
            try {
                definition = new UnitDefinition(id, segment, unit.address(), unit.cap(), unit.ecap(), false, scopes);
            } catch (IllegalArgumentException e) {
                throw new PlatformFormatException(unit.dir().toString(), e.getMessage());
            }
            for (UnitDefinition other : units) {
                String conflict = definition.conflictWith(other);
                if (conflict != null) {
                    throw new PlatformFormatException(unit.dir().toString(), conflict + " (" + origins.get(other).dir()
                            + ")");
                }
            }
            units.add(definition);
            origins.put(definition, unit);
        }
        return new Platform(root.toString(), Platform.SYSFS, units, inventory, List.of(), warnings);
    }

    private static List<SysfsUnit> units(Path classDir) throws IOException {
        List<SysfsUnit> units = new ArrayList<>();
        if (!Files.isDirectory(classDir)) {
            return units;
        }
        List<Path> dirs;
        try (Stream<Path> list = Files.list(classDir)) {
            dirs = list.filter(p -> Files.isDirectory(p.resolve("intel-iommu")))
                    .sorted(Comparator.comparing(SysfsReader::unitOrder).thenComparing(p -> p.getFileName().toString()))
                    .toList();
        }
        for (Path dir : dirs) {
            Path regs = dir.resolve("intel-iommu");
            long address = decode(regs.resolve("address"), () -> Numbers.hex64("register base",
                    text(regs.resolve("address"), "a hexadecimal register base such as fed90000")));
            Capability cap = decode(regs.resolve("cap"), () -> Capability.decode(Numbers.hex64("CAP",
                    text(regs.resolve("cap"), "a hexadecimal CAP value such as d2008c40660462"))));
            ExtendedCapability ecap = decode(regs.resolve("ecap"), () -> ExtendedCapability.decode(Numbers.hex64(
                    "ECAP", text(regs.resolve("ecap"), "a hexadecimal ECAP value such as f050da"))));
            String version = text(regs.resolve("version"), "MAJOR:MINOR such as 1:0");
            Matcher m = VERSION.matcher(version);
            if (!m.matches()) {
                throw new PlatformFormatException(regs.resolve("version").toString(), "'" + version
                        + "': expected MAJOR:MINOR such as 1:0");
            }
            if (address == 0 || (address & 0xFFF) != 0) {
                throw new PlatformFormatException(regs.resolve("address").toString(), String.format(
                        "0x%x: expected a nonzero 4 KiB-aligned register base", address));
            }
            List<PciAddress> devices = new ArrayList<>();
            Path devicesDir = dir.resolve("devices");
            if (Files.isDirectory(devicesDir)) {
                for (String name : names(devicesDir)) {
                    devices.add(bdf(devicesDir.resolve(name), name));
                }
            }
            units.add(new SysfsUnit(dir.getFileName().toString(), dir, address, cap, ecap,
                    Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), devices));
        }
        return units;
    }

    /** {@code dmar10} after {@code dmar9}; other names last. */
    private static long unitOrder(Path dir) {
        Matcher m = UNIT_NAME.matcher(dir.getFileName().toString());
        return m.matches() && m.group(1).length() < 10 ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
    }

    private static PciInventory inventory(Path devicesDir, List<String> warnings) throws IOException {
        PciInventory.Builder builder = PciInventory.builder();
        if (!Files.isDirectory(devicesDir)) {
            return builder.build();
        }
        Map<PciAddress, Path> entries = new LinkedHashMap<>();
        for (String name : names(devicesDir)) {
            entries.put(bdf(devicesDir.resolve(name), name), devicesDir.resolve(name));
        }
        // physical functions first: their VFs are computed, and the VF entries checked against them
        Map<PciAddress, PciAddress> vfToPf = new HashMap<>();
        for (Map.Entry<PciAddress, Path> e : entries.entrySet()) {
            Path dir = e.getValue();
            if (!Files.exists(dir.resolve("sriov_totalvfs"))) {
                continue;
            }
            int total = decimal(dir.resolve("sriov_totalvfs"), 0xFFFF);
            int num = decimal(required(dir, "sriov_numvfs", "sriov_totalvfs"), 0xFFFF);
            int offset = decimal(required(dir, "sriov_offset", "sriov_totalvfs"), 0xFFFF);
            int stride = decimal(required(dir, "sriov_stride", "sriov_totalvfs"), 0xFFFF);
            try {
                PciInventory.PhysicalFunction pf = new PciInventory.PhysicalFunction(e.getKey(), total, num, offset,
                        stride);
                builder.physicalFunction(pf, dir.toString(), atsQueueDepth(dir));
                pf.vfs().forEach(vf -> vfToPf.put(vf, pf.address()));
            } catch (IllegalArgumentException problem) {
                throw new PlatformFormatException(dir.toString(), problem.getMessage());
            }
        }
        for (Map.Entry<PciAddress, Path> e : entries.entrySet()) {
            PciAddress address = e.getKey();
            Path dir = e.getValue();
            if (Files.exists(dir.resolve("sriov_totalvfs"))) {
                continue;
            }
            if (vfToPf.containsKey(address)) {
                continue; // a VF its PF already brought
            }
            if (Files.exists(dir.resolve("physfn"), LinkOption.NOFOLLOW_LINKS)) {
                warnings.add(dir + ": a VF (it has physfn) that no PF's sriov_numvfs, sriov_offset and sriov_stride"
                        + " compute: expected one of its PF's enabled VFs; ignored");
                continue;
            }
            try {
                if (Files.exists(dir.resolve("secondary_bus_number"))) {
                    int secondary = decimal(dir.resolve("secondary_bus_number"), 0xFF);
                    int subordinate = decimal(required(dir, "subordinate_bus_number", "secondary_bus_number"), 0xFF);
                    if (secondary == 0 && subordinate == 0) {
                        warnings.add(dir + ": bridge with bus numbers 0-0 (not configured): expected a secondary bus"
                                + " above its own; ignored");
                        continue;
                    }
                    builder.bridge(new PciInventory.Bridge(address, secondary, subordinate,
                            bridgeKind(dir, warnings)), dir.toString());
                } else if (isBridgeClass(dir)) {
                    warnings.add(dir + ": a PCI bridge (class 0x0604) without secondary_bus_number: expected its bus"
                            + " numbers; ignored, scopes through it stay unresolved");
                } else {
                    builder.endpoint(address, dir.toString(), atsQueueDepth(dir));
                }
            } catch (PlatformFormatException problem) {
                throw problem;
            } catch (IllegalArgumentException problem) {
                throw new PlatformFormatException(dir.toString(), problem.getMessage());
            }
        }
        return builder.build();
    }

    /**
     * The bridge's kind from its {@code config} file as Linux reads it
     * ({@link PciConfigSpace}); a PCIe port when there is no such file, or
     * (with a warning) when the file ends before the capability list does.
     */
    private static PciInventory.BridgeKind bridgeKind(Path dir, List<String> warnings) throws IOException {
        Path file = dir.resolve("config");
        if (!Files.isRegularFile(file)) {
            return PciInventory.BridgeKind.PCIE_PORT;
        }
        byte[] config;
        try (var in = Files.newInputStream(file)) {
            config = in.readNBytes(4096);
        }
        String problem = PciConfigSpace.problem(config);
        if (problem != null) {
            throw new PlatformFormatException(file.toString(), problem);
        }
        return PciConfigSpace.bridgeKind(config).orElseGet(() -> {
            warnings.add(file + ": " + config.length + " bytes end inside the capability list (sysfs shows only the"
                    + " 64-byte header to a reader that is not root): expected the whole configuration space;"
                    + " taken as a PCIe port, which aliases nothing");
            return PciInventory.BridgeKind.PCIE_PORT;
        });
    }

    /** The ATS capability's queue depth from the function's {@code config} ({@link PciConfigSpace}), or null. */
    private static Integer atsQueueDepth(Path dir) throws IOException {
        Path file = dir.resolve("config");
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (var in = Files.newInputStream(file)) {
            var depth = PciConfigSpace.atsQueueDepth(in.readNBytes(PciConfigSpace.CFG_SPACE_EXP_SIZE));
            return depth.isPresent() ? depth.getAsInt() : null;
        }
    }

    private static boolean isBridgeClass(Path dir) throws IOException {
        Path file = dir.resolve("class");
        if (!Files.isRegularFile(file)) {
            return false;
        }
        String value = text(file, "a class code such as 0x060400").toLowerCase();
        return value.startsWith("0x0604") || value.startsWith("0604");
    }

    private static Path required(Path dir, String name, String because) {
        Path file = dir.resolve(name);
        if (!Files.exists(file)) {
            throw new PlatformFormatException(file.toString(), "missing: expected it beside " + because);
        }
        return file;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static PciAddress bdf(Path entry, String name) {
        if (!BDF.matcher(name).matches()) {
            throw new PlatformFormatException(entry.toString(), "not a PCI address: expected an entry named"
                    + " SSSS:BB:DD.F, as Linux names PCI devices (e.g. 0000:00:02.0)");
        }
        return PciAddress.parse(name);
    }

    private static int decimal(Path file, int max) throws IOException {
        String value = text(file, "a decimal number 0.." + max);
        try {
            return Numbers.number(file.getFileName().toString(), value, 0, max);
        } catch (IllegalArgumentException e) {
            throw new PlatformFormatException(file.toString(), e.getMessage());
        }
    }

    private interface Decoder<T> {
        T decode();
    }

    private static <T> T decode(Path file, Decoder<T> decoder) {
        try {
            return decoder.decode();
        } catch (PlatformFormatException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new PlatformFormatException(file.toString(), e.getMessage());
        }
    }

    /** The trimmed text of a small file. */
    static String text(Path file, String expected) {
        if (!Files.isRegularFile(file)) {
            throw new PlatformFormatException(file.toString(), "missing: expected a file holding " + expected);
        }
        try {
            if (Files.size(file) > MAX_FILE) {
                throw new PlatformFormatException(file.toString(), Files.size(file) + " bytes: expected a short"
                        + " file holding " + expected);
            }
            String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).strip();
            if (text.isEmpty()) {
                throw new PlatformFormatException(file.toString(), "empty: expected " + expected);
            }
            if (text.chars().anyMatch(c -> c < 0x20 || c >= 0x7F)) {
                throw new PlatformFormatException(file.toString(), "not one line of printable text: expected "
                        + expected);
            }
            return text;
        } catch (IOException e) {
            throw new PlatformFormatException(file.toString(), "cannot read (" + e + "): expected " + expected);
        }
    }
}
