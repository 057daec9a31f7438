package iommu.vtd;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import iommu.api.PciAddress;

/**
 * A platform file's {@code atsr} lines, format 1's form of the DMAR's root
 * port ATS capability reports: {@code atsr all-ports [segment=SSSS]} (flags
 * bit 0, ALL_PORTS) or {@code atsr SSSS:BB:DD.F...}, root ports of one
 * segment. Each line is checked as it is read (one ATSR a segment, as the
 * VT-d specification has it; ports given once, on one segment); the ports
 * are resolved against the whole topology at the end: each must be a
 * {@code bridge} line of kind {@code pcie-port} on a root bus, a root port,
 * which is what Linux's {@code dmar_ats_supported} looks an ATSR's scopes up
 * by.
 */
final class AtsrLines {

    static final String USAGE = "expected 'atsr all-ports [segment=SSSS]' or 'atsr SSSS:BB:DD.F...' (root ports"
            + " of one segment)";

    /** A problem found when the ports are resolved, with the line of its {@code atsr}. */
    static final class LineError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int line;

        LineError(int line, String message) {
            super(message);
            this.line = line;
        }
    }

    private record Line(int line, int segment, boolean allPorts, List<PciAddress> ports) {
    }

    private final Map<Integer, Line> bySegment = new LinkedHashMap<>();

    /** The line of the first {@code atsr}, or 0. */
    int firstLine() {
        return bySegment.values().stream().mapToInt(Line::line).min().orElse(0);
    }

    /**
     * Reads one line's words ({@code words[0]} is {@code atsr}).
     *
     * @throws IllegalArgumentException one line saying what is wrong; nothing kept
     */
    void add(int line, String[] words) {
        if (words.length < 2) {
            throw new IllegalArgumentException("atsr without ports: " + USAGE);
        }
        boolean allPorts = false;
        Integer segment = null;
        List<PciAddress> ports = new ArrayList<>();
        for (int i = 1; i < words.length; i++) {
            String word = words[i];
            if (word.equals("all-ports")) {
                if (allPorts) {
                    throw new IllegalArgumentException("atsr: 'all-ports' given twice: expected it once");
                }
                allPorts = true;
            } else if (word.startsWith("segment=")) {
                if (segment != null) {
                    throw new IllegalArgumentException("atsr: attribute 'segment' given twice: expected it once");
                }
                segment = Numbers.hex("segment of atsr", word.substring("segment=".length()), 0xFFFF);
            } else if (word.contains("=")) {
                throw new IllegalArgumentException("atsr: unknown attribute '" + word + "': " + USAGE);
            } else {
                PciAddress port = PciAddress.parse(word);
                if (ports.contains(port)) {
                    throw new IllegalArgumentException("atsr names root port " + port + " twice: expected each once");
                }
                if (!ports.isEmpty() && ports.get(0).segment() != port.segment()) {
                    throw new IllegalArgumentException(String.format("atsr names %s on segment %04x and %s on"
                            + " segment %04x: expected the root ports of one segment (one atsr line a segment)",
                            ports.get(0), ports.get(0).segment(), port, port.segment()));
                }
                ports.add(port);
            }
        }
        if (allPorts && !ports.isEmpty()) {
            throw new IllegalArgumentException("atsr with 'all-ports' and root port " + ports.get(0)
                    + ": expected either all-ports or a list of root ports");
        }
        if (!allPorts && segment != null) {
            throw new IllegalArgumentException("atsr with root ports and segment=: expected 'segment=' only with"
                    + " all-ports (the ports' addresses name their segment)");
        }
        if (!allPorts && ports.isEmpty()) {
            throw new IllegalArgumentException("atsr without ports: " + USAGE);
        }
        int seg = allPorts ? (segment == null ? 0 : segment) : ports.get(0).segment();
        Line earlier = bySegment.get(seg);
        if (earlier != null) {
            throw new IllegalArgumentException(String.format("a second atsr for segment %04x (the first at line"
                    + " %d): expected one ATSR a segment", seg, earlier.line()));
        }
        bySegment.put(seg, new Line(line, seg, allPorts, List.copyOf(ports)));
    }

    /**
     * The ATSRs, each port checked against the topology.
     *
     * @throws LineError naming the first port that is not a root port of the topology
     */
    AtsReports resolve(String source, PciInventory inventory) {
        List<AtsReports.Atsr> atsrs = new ArrayList<>();
        for (Line l : bySegment.values()) {
            for (PciAddress port : l.ports()) {
                var function = inventory.function(port);
                if (function.isEmpty()) {
                    throw new LineError(l.line(), "atsr names " + port + ", which no line of the file lists:"
                            + " expected a root port, a 'bridge' line");
                }
                var bridge = inventory.bridge(port);
                if (bridge.isEmpty()) {
                    throw new LineError(l.line(), "atsr names " + function.get().describe()
                            + ": expected a root port, a 'bridge' line");
                }
                if (!AtsReports.isRootPort(inventory, bridge.get())) {
                    throw new LineError(l.line(), "atsr names bridge " + bridge.get() + " ("
                            + function.get().origin() + "), which is not a root port: expected a bridge of kind"
                            + " pcie-port on a root bus (no bridge above it)");
                }
            }
            atsrs.add(new AtsReports.Atsr(source + ": line " + l.line(), l.segment(), l.allPorts(), l.ports()));
        }
        return new AtsReports(atsrs, List.of());
    }
}
