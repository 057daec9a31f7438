package iommu.vtd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import iommu.api.PciAddress;

/**
 * Reads a platform file, format 1 or 2 (see {@code PLATFORM.md}): VT-d units
 * with their device scopes (format 1 {@code unit} and {@code scope} lines) or
 * an ACPI DMAR binary with per-DRHD CAP/ECAP values (format 2 {@code dmar} and
 * {@code drhd} lines), and the PCI topology with SR-IOV physical functions.
 * Validates everything before it returns; the first problem is a
 * {@link PlatformFormatException} whose one-line message names the file, the
 * line, what is wrong and what was expected.
 */
public final class PlatformFileParser {

    /** The first statement of every platform file: {@code iommu-platform 1}. */
    public static final String HEADER = "iommu-platform";
    /** The latest format; format 1 is read as well. */
    public static final int VERSION = 2;

    private static final String KEYWORDS = "'unit', 'scope', 'dmar', 'drhd', 'endpoint', 'bridge', 'sriov' or 'atsr'";

    /** Reads the DMAR binary a {@code dmar PATH} line names, PATH as written. */
    public interface DmarLoader {
        /** The bytes of the file; {@link #name} is how messages name it. */
        byte[] load(String path) throws IOException;

        /** How messages name the file, e.g. the path resolved against the platform file's folder. */
        default String name(String path) {
            return path;
        }

        /** For text that names no DMAR file, or cannot: refuses every {@code dmar} line. */
        DmarLoader NONE = path -> {
            throw new IOException("no folder to resolve it against (the platform was not read from a file)");
        };

        /** Resolves paths against a folder. */
        static DmarLoader relativeTo(Path folder) {
            return new DmarLoader() {
                @Override
                public byte[] load(String path) throws IOException {
                    return Files.readAllBytes(folder.resolve(path));
                }

                @Override
                public String name(String path) {
                    return folder.resolve(path).toString();
                }
            };
        }
    }

    private PlatformFileParser() {
    }

    /** Parses a file; messages name it as given; a {@code dmar} path is relative to the file's folder. */
    public static Platform parse(Path file) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        try (InputStream in = Files.newInputStream(file)) {
            return parse(file.toString(), in, DmarLoader.relativeTo(folder));
        }
    }

    /** Parses UTF-8 text that names no DMAR file; {@code source} names it in messages. */
    public static Platform parse(String source, InputStream in) throws IOException {
        return parse(source, in, DmarLoader.NONE);
    }

    /** Whether the text's first statement is a platform-file header ({@code iommu-platform N}). */
    public static boolean looksLikePlatformFile(byte[] start) {
        String text = new String(start, java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String line : text.split("\n", -1)) {
            int hash = line.indexOf('#');
            String statement = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (!statement.isEmpty()) {
                return statement.split("\\s+")[0].equals(HEADER);
            }
        }
        return false;
    }

    /** Parses UTF-8 text; {@code source} names it in messages, {@code dmar} reads the DMAR it names. */
    public static Platform parse(String source, InputStream in, DmarLoader dmar) throws IOException {
        byte[] bytes = in.readAllBytes();
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                if (i == bytes.length && start == i) {
                    break; // no empty line after the final newline
                }
                int end = i > start && bytes[i - 1] == '\r' ? i - 1 : i;
                lines.add(decode(source, lines.size() + 1, ByteBuffer.wrap(bytes, start, end - start)));
                start = i + 1;
            }
        }
        return parse(source, lines, dmar);
    }

    private static String decode(String source, int line, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new PlatformFormatException(source, line, "not UTF-8 text: expected a text file");
        }
    }

    /** Parses the lines of a platform file that names no DMAR file; {@code source} names it in messages. */
    public static Platform parse(String source, List<String> lines) {
        return parse(source, lines, DmarLoader.NONE);
    }

    /** Parses the lines of a platform file; {@code source} names it in messages. */
    public static Platform parse(String source, List<String> lines, DmarLoader dmar) {
        return new Run(source, dmar).parse(lines);
    }

    /** One parse: the state collected so far. */
    private static final class Run {
        private final String source;
        private final DmarLoader loader;
        private int version;
        private boolean header;
        private int line;
        private DmarTable dmar;
        private int dmarLine;
        private final Map<Integer, Located<DmarUnits.UnitRegisters>> drhdRegisters = new LinkedHashMap<>();
        private final Map<String, UnitBuilder> units = new LinkedHashMap<>();
        private UnitBuilder current;
        private final PciInventory.Builder inventory = PciInventory.builder();
        private final List<Located<DeviceScope>> allScopes = new ArrayList<>();
        private final AtsrLines atsrs = new AtsrLines();

        Run(String source, DmarLoader loader) {
            this.source = source;
            this.loader = loader;
        }

        Platform parse(List<String> text) {
            for (line = 1; line <= text.size(); line++) {
                String statement = text.get(line - 1);
                int hash = statement.indexOf('#');
                if (hash >= 0) {
                    statement = statement.substring(0, hash);
                }
                statement = statement.strip();
                if (statement.isEmpty()) {
                    continue;
                }
                try {
                    statement(statement.split("\\s+"));
                } catch (PlatformFormatException e) {
                    throw e;
                } catch (IllegalArgumentException e) {
                    throw error(e.getMessage());
                }
            }
            if (!header) {
                line = Math.max(1, text.size());
                throw error("no header: expected the first statement to be '" + HEADER + " " + VERSION + "'");
            }
            PciInventory pci = inventory.build();
            if (dmar != null && atsrs.firstLine() > 0) {
                line = atsrs.firstLine();
                throw error("an 'atsr' line in a file whose units come from the DMAR at line " + dmarLine
                        + ": expected the DMAR's ATSRs to name the root ports whose devices use ATS");
            }
            if (dmar != null) {
                line = dmarLine;
                return DmarUnits.platform(dmar, pci, drhd -> {
                    Located<DmarUnits.UnitRegisters> registers = drhdRegisters.get(drhd.index());
                    return registers == null ? null : registers.value;
                }, Platform.PLATFORM_FILE, List.of()).withSource(source);
            }
            checkScopesAgainstInventory(pci);
            List<UnitDefinition> definitions = new ArrayList<>();
            for (UnitBuilder unit : units.values()) {
                line = unit.line;
                try {
                    definitions.add(unit.build());
                } catch (IllegalArgumentException e) {
                    throw error(e.getMessage());
                }
            }
            AtsReports ats;
            try {
                ats = atsrs.resolve(source, pci);
            } catch (AtsrLines.LineError e) {
                line = e.line;
                throw error(e.getMessage());
            }
            return new Platform(source, Platform.PLATFORM_FILE, definitions, pci, List.of(), ats, List.of());
        }

        private void statement(String[] words) {
            String keyword = words[0];
            if (!header) {
                if (!keyword.equals(HEADER)) {
                    throw error("'" + keyword + "' before the header: expected the first statement to be '"
                            + HEADER + " " + VERSION + "'");
                }
                if (words.length != 2 || !(words[1].equals("1") || words[1].equals("2"))) {
                    throw error("unsupported format '" + String.join(" ", words) + "': expected '"
                            + HEADER + " 1' or '" + HEADER + " 2'");
                }
                version = Integer.parseInt(words[1]);
                header = true;
                return;
            }
            switch (keyword) {
                case HEADER -> throw error("second header: expected '" + HEADER + "' once, as the first statement");
                case "unit" -> unit(words);
                case "scope" -> scope(words);
                case "dmar" -> dmar(words);
                case "drhd" -> drhd(words);
                case "endpoint" -> endpoint(words);
                case "bridge" -> bridge(words);
                case "sriov" -> sriov(words);
                case "atsr" -> atsrs.add(line, words);
                default -> throw error("unknown keyword '" + keyword + "': expected " + KEYWORDS);
            }
        }

        private void unit(String[] words) {
            if (dmar != null) {
                throw error("a 'unit' line in a file whose units come from the DMAR at line " + dmarLine
                        + ": expected either 'unit' lines or one 'dmar' line");
            }
            if (words.length < 2 || words[1].contains("=")) {
                throw error("unit without an id: expected 'unit ID base=0x... cap=... ecap=... [segment=S] [include-pci-all]'");
            }
            String id = words[1];
            Map<String, String> attributes = attributes(words, 2, "unit " + id,
                    Set.of("segment", "base", "cap", "ecap"), Set.of("include-pci-all"));
            for (String required : List.of("base", "cap", "ecap")) {
                if (!attributes.containsKey(required)) {
                    throw error("unit " + id + " lacks " + required + "=: expected 'unit " + id
                            + " base=0x... cap=... ecap=... [segment=S] [include-pci-all]'");
                }
            }
            int segment = attributes.containsKey("segment")
                    ? Numbers.hex("segment of unit " + id, attributes.get("segment"), 0xFFFF) : 0;
            long base = Numbers.hex64("register base of unit " + id, attributes.get("base"));
            Capability cap = Capability.decode(Numbers.hex64("CAP of unit " + id, attributes.get("cap")));
            ExtendedCapability ecap = ExtendedCapability.decode(
                    Numbers.hex64("ECAP of unit " + id, attributes.get("ecap")));
            UnitDefinition bare = new UnitDefinition(id, segment, base, cap, ecap,
                    attributes.containsKey("include-pci-all"), List.of());
            for (UnitBuilder other : units.values()) {
                String conflict = bare.conflictWith(other.bare);
                if (conflict != null) {
                    throw error(conflict + " (unit " + other.bare.id() + " at line " + other.line + ")");
                }
            }
            current = new UnitBuilder(line, bare);
            units.put(id, current);
        }

        private void scope(String[] words) {
            if (current == null) {
                throw error("scope before any unit: expected a 'unit' line first; scopes belong to the unit above them");
            }
            DeviceScope scope = DeviceScope.parse(String.join(" ", List.of(words).subList(1, words.length)));
            UnitDefinition unit = current.bare;
            if (scope.address().segment() != unit.segment()) {
                throw error(String.format("scope %s is on segment %04x: expected unit %s's segment %04x",
                        scope, scope.address().segment(), unit.id(), unit.segment()));
            }
            for (Located<DeviceScope> earlier : current.scopes) {
                if (earlier.value.address().equals(scope.address())) {
                    throw error("unit " + unit.id() + " names " + scope.address() + " twice (line "
                            + earlier.line + "): expected each device once per unit");
                }
            }
            if (scope.type() == DeviceScope.Type.ENDPOINT) {
                for (UnitBuilder other : units.values()) {
                    for (Located<DeviceScope> theirs : other.scopes) {
                        if (theirs.value.equals(scope)) {
                            throw error("endpoint " + scope.address() + " already in unit " + other.bare.id()
                                    + " (line " + theirs.line + "): expected each endpoint named by one unit");
                        }
                    }
                }
            }
            Located<DeviceScope> located = new Located<>(line, scope);
            current.scopes.add(located);
            allScopes.add(located);
        }

        /** {@code dmar PATH}: the units come from an ACPI DMAR binary, PATH relative to this file. */
        private void dmar(String[] words) {
            if (version < 2) {
                throw error("'dmar' needs format 2: expected '" + HEADER + " 2' as the header");
            }
            if (dmar != null) {
                throw error("a second 'dmar' line (the first at line " + dmarLine + "): expected one DMAR per platform");
            }
            if (!units.isEmpty()) {
                throw error("a 'dmar' line after 'unit' lines (unit " + units.keySet().iterator().next()
                        + "): expected either 'unit' lines or one 'dmar' line");
            }
            if (words.length != 2) {
                throw error("dmar takes one argument: expected 'dmar PATH' (relative to this file, no spaces)");
            }
            byte[] bytes;
            try {
                bytes = loader.load(words[1]);
            } catch (IOException e) {
                throw error("cannot read DMAR " + loader.name(words[1]) + " (" + e.getMessage()
                        + "): expected a readable ACPI DMAR binary");
            }
            try {
                dmar = DmarParser.parse(loader.name(words[1]), bytes);
            } catch (DmarFormatException e) {
                throw error("DMAR " + e.getMessage());
            }
            dmarLine = line;
        }

        /** {@code drhd INDEX|base=ADDR cap=HEX ecap=HEX}: the registers of one DRHD of the DMAR. */
        private void drhd(String[] words) {
            if (dmar == null) {
                throw error("'drhd' before any 'dmar' line: expected 'dmar PATH' first; drhd lines give the"
                        + " registers of its DRHDs");
            }
            String usage = "expected 'drhd INDEX cap=HEX ecap=HEX' or 'drhd base=0xADDR cap=HEX ecap=HEX'";
            if (words.length < 2) {
                throw error("drhd without a DRHD: " + usage);
            }
            DmarTable.Drhd drhd;
            if (words[1].startsWith("base=")) {
                long base = Numbers.hex64("register base", words[1].substring(5));
                drhd = dmar.drhds().stream().filter(d -> d.registerBase() == base).findFirst()
                        .orElseThrow(() -> error(String.format("drhd base=0x%x: no DRHD of %s has that register"
                                + " base: expected one of %s", base, dmar.source(), dmar.drhds().stream()
                                        .map(d -> String.format("0x%x", d.registerBase())).toList())));
            } else {
                int index = Numbers.number("DRHD index", words[1], 0, 0xFFFF);
                drhd = dmar.drhds().stream().filter(d -> d.index() == index).findFirst()
                        .orElseThrow(() -> error("drhd " + index + ": " + dmar.source() + " has no well-formed DRHD #"
                                + index + ": expected one of " + dmar.drhds().stream().map(d -> "#" + d.index())
                                        .toList()));
            }
            String what = "drhd " + words[1];
            Map<String, String> attributes = attributes(words, 2, what, Set.of("cap", "ecap"), Set.of());
            for (String required : List.of("cap", "ecap")) {
                if (!attributes.containsKey(required)) {
                    throw error(what + " lacks " + required + "=: " + usage);
                }
            }
            Located<DmarUnits.UnitRegisters> earlier = drhdRegisters.get(drhd.index());
            if (earlier != null) {
                throw error(drhd.describe() + " given twice (line " + earlier.line
                        + "): expected one drhd line per DRHD");
            }
            Capability cap = Capability.decode(Numbers.hex64("CAP of " + drhd.describe(), attributes.get("cap")));
            ExtendedCapability ecap = ExtendedCapability.decode(
                    Numbers.hex64("ECAP of " + drhd.describe(), attributes.get("ecap")));
            drhdRegisters.put(drhd.index(), new Located<>(line, new DmarUnits.UnitRegisters(cap, ecap)));
        }

        private void endpoint(String[] words) {
            if (words.length > 2 && words[2].startsWith("kind=")) {
                throw error("endpoint " + words[1] + ": '" + words[2] + "' on an endpoint: expected 'kind=' only on"
                        + " a 'bridge' line");
            }
            boolean ats = words.length == 3 && words[2].equals(ATS);
            if (words.length != 2 && !ats) {
                throw error("endpoint takes an address and an optional flag: expected 'endpoint SSSS:BB:DD.F [ats]'");
            }
            inventory.endpoint(PciAddress.parse(words[1]), "line " + line, ats ? 0 : null);
        }

        /** The flag of a device with a PCIe ATS capability (an Invalidate Queue Depth of 0, that is 32). */
        private static final String ATS = "ats";

        private static final String BRIDGE_USAGE = "'bridge SSSS:BB:DD.F SS-EE [kind=pcie-port|pcie-to-pci|pci]'";

        /** {@code bridge BDF SS-EE [kind=...]}: kind as Linux's pci_for_each_dma_alias tells bridges apart. */
        private void bridge(String[] words) {
            for (int i = 2; i < words.length; i++) {
                if (words[i].equals(ATS)) {
                    throw error("bridge " + words[1] + ": 'ats' on a bridge: expected it only on an 'endpoint' or"
                            + " 'sriov' line (a bridge forwards translation requests, it caches none)");
                }
            }
            if (words.length < 3 || words.length > 4 || words[2].contains("=")) {
                throw error("bridge takes an address and a bus range, then an optional kind: expected " + BRIDGE_USAGE);
            }
            PciAddress address = PciAddress.parse(words[1]);
            int[] range = Numbers.busRange("bus range of bridge " + address, words[2]);
            PciInventory.BridgeKind kind = PciInventory.BridgeKind.PCIE_PORT;
            if (words.length == 4) {
                Map<String, String> attributes = attributes(words, 3, "bridge " + address, Set.of("kind"), Set.of());
                String word = attributes.get("kind");
                if (word == null) {
                    throw error("bridge " + address + ": '" + words[3] + "': expected " + BRIDGE_USAGE);
                }
                kind = PciInventory.BridgeKind.ofWord(word).orElseThrow(() -> error("bridge " + address
                        + ": unknown kind '" + word + "': expected pcie-port (a root or switch port), pcie-to-pci"
                        + " (a PCIe-to-PCI/PCI-X bridge) or pci (a conventional PCI bridge)"));
            }
            inventory.bridge(new PciInventory.Bridge(address, range[0], range[1], kind), "line " + line);
        }

        private void sriov(String[] words) {
            if (words.length < 2 || words[1].contains("=")) {
                throw error("sriov without a PF address: expected 'sriov SSSS:BB:DD.F totalvfs=N numvfs=N offset=N stride=N'");
            }
            PciAddress pf = PciAddress.parse(words[1]);
            for (int i = 2; i < words.length; i++) {
                if (words[i].startsWith("kind=")) {
                    throw error("sriov " + pf + ": '" + words[i] + "' on an SR-IOV PF: expected 'kind=' only on"
                            + " a 'bridge' line");
                }
            }
            Map<String, String> attributes = attributes(words, 2, "sriov " + pf,
                    Set.of("totalvfs", "numvfs", "offset", "stride"), Set.of(ATS));
            for (String required : List.of("totalvfs", "numvfs", "offset", "stride")) {
                if (!attributes.containsKey(required)) {
                    throw error("sriov " + pf + " lacks " + required
                            + "=: expected 'sriov " + pf + " totalvfs=N numvfs=N offset=N stride=N [ats]'");
                }
            }
            int total = Numbers.number("totalvfs of PF " + pf, attributes.get("totalvfs"), 0, 0xFFFF);
            int num = Numbers.number("numvfs of PF " + pf, attributes.get("numvfs"), 0, 0xFFFF);
            int offset = Numbers.number("First VF Offset of PF " + pf, attributes.get("offset"), 0, 0xFFFF);
            int stride = Numbers.number("VF Stride of PF " + pf, attributes.get("stride"), 0, 0xFFFF);
            inventory.physicalFunction(new PciInventory.PhysicalFunction(pf, total, num, offset, stride), "line " + line,
                    attributes.containsKey(ATS) ? 0 : null);
        }

        /** {@code key=value} words and bare flags from {@code words[from]} on; unknown and repeated ones refused. */
        private Map<String, String> attributes(String[] words, int from, String what, Set<String> keys,
                Set<String> flags) {
            Map<String, String> result = new LinkedHashMap<>();
            for (int i = from; i < words.length; i++) {
                String word = words[i];
                int eq = word.indexOf('=');
                String key = eq < 0 ? word : word.substring(0, eq);
                boolean known = eq < 0 ? flags.contains(key) : keys.contains(key);
                if (!known) {
                    List<String> expected = new ArrayList<>();
                    keys.stream().sorted().forEach(k -> expected.add(k + "="));
                    flags.stream().sorted().forEach(expected::add);
                    throw error(what + ": unknown attribute '" + word + "': expected one of " + expected);
                }
                if (result.containsKey(key)) {
                    throw error(what + ": attribute '" + key + "' given twice: expected it once");
                }
                result.put(key, eq < 0 ? "" : word.substring(eq + 1));
            }
            return result;
        }

        /** A bridge scope must agree with the inventory's bridge of that address, an endpoint scope must not name a bridge. */
        private void checkScopesAgainstInventory(PciInventory pci) {
            for (Located<DeviceScope> located : allScopes) {
                line = located.line;
                DeviceScope scope = located.value;
                var function = pci.function(scope.address());
                if (function.isEmpty()) {
                    continue; // firmware tables name absent devices too
                }
                boolean isBridge = function.get().kind() == PciInventory.Kind.BRIDGE;
                if (scope.type() == DeviceScope.Type.BRIDGE) {
                    if (!isBridge) {
                        throw error("bridge scope " + scope.address() + " names " + function.get().describe()
                                + ": expected a bridge");
                    }
                    PciInventory.Bridge bridge = pci.bridge(scope.address()).orElseThrow();
                    if (bridge.secondary() != scope.secondary() || bridge.subordinate() != scope.subordinate()) {
                        throw error(String.format("bridge scope %s disagrees with bridge %s (%s):"
                                + " expected the same bus range", scope, bridge, function.get().origin()));
                    }
                } else if (isBridge) {
                    throw error("endpoint scope " + scope.address() + " names " + function.get().describe()
                            + ": expected 'scope bridge " + scope.address() + " SS-EE'");
                }
            }
        }

        private PlatformFormatException error(String detail) {
            return new PlatformFormatException(source, line, detail);
        }
    }

    private record Located<T>(int line, T value) {
    }

    private static final class UnitBuilder {
        final int line;
        final UnitDefinition bare;
        final List<Located<DeviceScope>> scopes = new ArrayList<>();

        UnitBuilder(int line, UnitDefinition bare) {
            this.line = line;
            this.bare = bare;
        }

        UnitDefinition build() {
            return new UnitDefinition(bare.id(), bare.segment(), bare.registerBase(), bare.cap(), bare.ecap(),
                    bare.includePciAll(), scopes.stream().map(Located::value).toList());
        }
    }
}
