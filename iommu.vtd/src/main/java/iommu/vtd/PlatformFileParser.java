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
 * Reads a platform file, format v1 (see {@code PLATFORM.md}): VT-d units
 * with their device scopes, and the PCI topology with SR-IOV physical
 * functions. Validates everything before it returns; the first problem is a
 * {@link PlatformFormatException} whose one-line message names the file, the
 * line, what is wrong and what was expected.
 */
public final class PlatformFileParser {

    /** The first statement of every platform file: {@code iommu-platform 1}. */
    public static final String HEADER = "iommu-platform";
    public static final int VERSION = 1;

    private static final String KEYWORDS = "'unit', 'scope', 'endpoint', 'bridge' or 'sriov'";

    private PlatformFileParser() {
    }

    /** Parses a file; messages name it as given. */
    public static Platform parse(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(file.toString(), in);
        }
    }

    /** Parses UTF-8 text; {@code source} names it in messages. */
    public static Platform parse(String source, InputStream in) throws IOException {
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
        return parse(source, lines);
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

    /** Parses the lines of a platform file; {@code source} names it in messages. */
    public static Platform parse(String source, List<String> lines) {
        return new Run(source).parse(lines);
    }

    /** One parse: the state collected so far. */
    private static final class Run {
        private final String source;
        private boolean header;
        private int line;
        private final Map<String, UnitBuilder> units = new LinkedHashMap<>();
        private UnitBuilder current;
        private final PciInventory.Builder inventory = PciInventory.builder();
        private final List<Located<DeviceScope>> allScopes = new ArrayList<>();

        Run(String source) {
            this.source = source;
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
            return new Platform(source, definitions, pci);
        }

        private void statement(String[] words) {
            String keyword = words[0];
            if (!header) {
                if (!keyword.equals(HEADER)) {
                    throw error("'" + keyword + "' before the header: expected the first statement to be '"
                            + HEADER + " " + VERSION + "'");
                }
                if (words.length != 2 || !words[1].equals(Integer.toString(VERSION))) {
                    throw error("unsupported format '" + String.join(" ", words) + "': expected '"
                            + HEADER + " " + VERSION + "'");
                }
                header = true;
                return;
            }
            switch (keyword) {
                case HEADER -> throw error("second header: expected '" + HEADER + "' once, as the first statement");
                case "unit" -> unit(words);
                case "scope" -> scope(words);
                case "endpoint" -> endpoint(words);
                case "bridge" -> bridge(words);
                case "sriov" -> sriov(words);
                default -> throw error("unknown keyword '" + keyword + "': expected " + KEYWORDS);
            }
        }

        private void unit(String[] words) {
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

        private void endpoint(String[] words) {
            if (words.length != 2) {
                throw error("endpoint takes one argument: expected 'endpoint SSSS:BB:DD.F'");
            }
            inventory.endpoint(PciAddress.parse(words[1]), "line " + line);
        }

        private void bridge(String[] words) {
            if (words.length != 3) {
                throw error("bridge takes two arguments: expected 'bridge SSSS:BB:DD.F SS-EE'");
            }
            PciAddress address = PciAddress.parse(words[1]);
            int[] range = Numbers.busRange("bus range of bridge " + address, words[2]);
            inventory.bridge(new PciInventory.Bridge(address, range[0], range[1]), "line " + line);
        }

        private void sriov(String[] words) {
            if (words.length < 2 || words[1].contains("=")) {
                throw error("sriov without a PF address: expected 'sriov SSSS:BB:DD.F totalvfs=N numvfs=N offset=N stride=N'");
            }
            PciAddress pf = PciAddress.parse(words[1]);
            Map<String, String> attributes = attributes(words, 2, "sriov " + pf,
                    Set.of("totalvfs", "numvfs", "offset", "stride"), Set.of());
            for (String required : List.of("totalvfs", "numvfs", "offset", "stride")) {
                if (!attributes.containsKey(required)) {
                    throw error("sriov " + pf + " lacks " + required
                            + "=: expected 'sriov " + pf + " totalvfs=N numvfs=N offset=N stride=N'");
                }
            }
            int total = Numbers.number("totalvfs of PF " + pf, attributes.get("totalvfs"), 0, 0xFFFF);
            int num = Numbers.number("numvfs of PF " + pf, attributes.get("numvfs"), 0, 0xFFFF);
            int offset = Numbers.number("First VF Offset of PF " + pf, attributes.get("offset"), 0, 0xFFFF);
            int stride = Numbers.number("VF Stride of PF " + pf, attributes.get("stride"), 0, 0xFFFF);
            inventory.physicalFunction(new PciInventory.PhysicalFunction(pf, total, num, offset, stride), "line " + line);
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
