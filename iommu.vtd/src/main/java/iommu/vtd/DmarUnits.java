package iommu.vtd;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import iommu.api.PciAddress;
import iommu.vtd.DmarTable.Drhd;
import iommu.vtd.DmarTable.Rmrr;
import iommu.vtd.DmarTable.Scope;

/**
 * Turns a parsed DMAR into unit definitions and reserved regions, walking
 * each device scope through the PCI topology as Linux
 * ({@code dmar_insert_dev_scope}, {@code dmar_match_pci_path}) and Xen
 * ({@code acpi_parse_dev_scope}) do: start on the scope's start bus, follow
 * every hop but the last through a bridge to its secondary bus; the last hop
 * names the function. A bridge scope covers the bridge's
 * secondary..subordinate buses, which only the topology knows.
 *
 * <p>A DMAR has no CAP/ECAP: a DRHD gets what {@code registers} gives it (a
 * platform file's {@code drhd} line, sysfs), else {@link #DEFAULT_CAP} and
 * {@link #DEFAULT_ECAP}.
 *
 * <p>Units are named {@code dmar0, dmar1, ...} in table order of the DRHDs
 * kept. A DRHD that cannot be a unit is a warning and the others are kept:
 * one whose register base an earlier DRHD has, a second INCLUDE_PCI_ALL DRHD
 * on a segment. A scope that cannot be resolved is a warning and claims no
 * device; so is an endpoint already named by an earlier DRHD (the earlier one
 * wins, as Linux's first match does) and a scope whose type does not match
 * the function it names (Linux: "Device scope type does not match").
 */
public final class DmarUnits {

    /**
     * CAP of a DRHD the platform says nothing more about: the real CAP of the
     * PCH unit of Comet Lake-S, Kaby Lake-R and Xeon E3 v6 machines
     * ({@code ../shared/data/dmar-real/cap-ecap.txt}): ND=2 (256 domain ids),
     * CM=0, SAGAW 0b00100 (4-level tables), MGAW 39, FRO 0x400, PSI=1, NFR 1,
     * MAMV 18.
     */
    public static final long DEFAULT_CAP = 0xd2008c40660462L;
    /**
     * ECAP paired with {@link #DEFAULT_CAP} on the same machines: QI=1, IR,
     * EIM, PT, SC set; C=0, DT=0; IRO 0x500.
     */
    public static final long DEFAULT_ECAP = 0xf050daL;

    /** A DRHD's CAP and ECAP. */
    public record UnitRegisters(Capability cap, ExtendedCapability ecap) {
        public static final UnitRegisters DEFAULT = new UnitRegisters(Capability.decode(DEFAULT_CAP),
                ExtendedCapability.decode(DEFAULT_ECAP));
    }

    private DmarUnits() {
    }

    /** The platform of a DMAR alone: default registers for every unit. */
    public static Platform platform(DmarTable table, PciInventory topology) {
        return platform(table, topology, drhd -> UnitRegisters.DEFAULT, Platform.ACPI_DMAR, List.of());
    }

    /**
     * The platform a DMAR yields over a topology.
     *
     * @param registers the CAP/ECAP of each DRHD (null: the defaults)
     * @param format what the platform is read as, for the discovery report
     * @param warnings warnings from the enclosing source, reported first
     */
    public static Platform platform(DmarTable table, PciInventory topology, Function<Drhd, UnitRegisters> registers,
            String format, List<String> warnings) {
        Build build = new Build(table, topology, warnings);
        List<UnitDefinition> units = build.units(registers);
        List<ReservedRegion> reserved = build.reserved();
        AtsReports ats = build.ats();
        build.crossChecks();
        build.summarizeUnresolved();
        return new Platform(table.source(), format, units, topology, reserved, ats, build.warnings);
    }

    /** A scope walked through the topology: the resolved scope, or why not. */
    record Resolution(DeviceScope scope, String problem, boolean needsTopology) {
    }

    /** Walks a PCI (endpoint or bridge) scope of a structure on {@code segment} through the topology. */
    static Resolution resolve(int segment, Scope scope, PciInventory topology) {
        int bus = scope.startBus();
        List<DmarTable.Hop> path = scope.path();
        for (int i = 0; i < path.size() - 1; i++) {
            PciAddress hop = new PciAddress(segment, bus, path.get(i).device(), path.get(i).function());
            Optional<PciInventory.Bridge> bridge = topology.bridge(hop);
            if (bridge.isEmpty()) {
                return new Resolution(null, String.format("hop %d of its path, %s, is not a bridge of the PCI"
                        + " topology: expected one, whose secondary bus the path continues on", i + 1, hop), true);
            }
            bus = bridge.get().secondary();
        }
        DmarTable.Hop last = path.get(path.size() - 1);
        PciAddress address = new PciAddress(segment, bus, last.device(), last.function());
        Optional<PciInventory.Function> function = topology.function(address);
        if (scope.type() == Scope.ENDPOINT) {
            if (function.isPresent() && function.get().kind() == PciInventory.Kind.BRIDGE) {
                return new Resolution(null, "names " + function.get().describe()
                        + ": expected an endpoint (the scope type does not match the function)", false);
            }
            return new Resolution(DeviceScope.endpoint(address), null, false);
        }
        Optional<PciInventory.Bridge> bridge = topology.bridge(address);
        if (bridge.isPresent()) {
            return new Resolution(DeviceScope.bridge(address, bridge.get().secondary(), bridge.get().subordinate()),
                    null, false);
        }
        if (function.isPresent()) {
            return new Resolution(null, "names " + function.get().describe()
                    + ": expected a bridge (the scope type does not match the function)", false);
        }
        return new Resolution(null, "bridge " + address + " is not in the PCI topology: expected it there, with the"
                + " secondary and subordinate buses the scope covers", true);
    }

    private static final class Build {
        final DmarTable table;
        final PciInventory topology;
        final List<String> warnings;
        final boolean noTopology;
        int unresolved;

        Build(DmarTable table, PciInventory topology, List<String> outer) {
            this.table = table;
            this.topology = topology;
            this.warnings = new ArrayList<>(outer);
            this.warnings.addAll(table.warnings());
            this.noTopology = topology.functions().isEmpty();
        }

        List<UnitDefinition> units(Function<Drhd, UnitRegisters> registers) {
            List<UnitDefinition> units = new ArrayList<>();
            Map<Long, Drhd> bases = new HashMap<>();
            Map<Integer, Drhd> includeAll = new HashMap<>();
            Map<PciAddress, Drhd> endpoints = new HashMap<>();
            for (Drhd drhd : table.drhds()) {
                String where = table.source() + ": " + drhd.describe();
                Drhd sameBase = bases.get(drhd.registerBase());
                if (sameBase != null) {
                    warnings.add(String.format("%s: register base 0x%x is that of %s: expected distinct register"
                            + " bases; the DRHD is skipped", where, drhd.registerBase(), sameBase.describe()));
                    continue;
                }
                if (drhd.includePciAll() && includeAll.containsKey(drhd.segment())) {
                    warnings.add(String.format("%s: a second INCLUDE_PCI_ALL DRHD on segment %04x, after %s:"
                            + " expected at most one per segment; the DRHD is skipped", where, drhd.segment(),
                            includeAll.get(drhd.segment()).describe()));
                    continue;
                }
                List<DeviceScope> scopes = new ArrayList<>();
                Set<PciAddress> named = new HashSet<>();
                for (Scope scope : drhd.scopes()) {
                    if (!scope.isPci()) {
                        continue;
                    }
                    DeviceScope resolved = resolved(where, drhd.segment(), scope);
                    if (resolved == null) {
                        continue;
                    }
                    if (!named.add(resolved.address())) {
                        warnings.add(String.format("%s: device scope %s at offset 0x%x names %s a second time:"
                                + " expected each device once per DRHD; ignored", where, scope, scope.offset(),
                                resolved.address()));
                        continue;
                    }
                    if (resolved.type() == DeviceScope.Type.ENDPOINT && endpoints.containsKey(resolved.address())) {
                        warnings.add(String.format("%s: device scope %s at offset 0x%x names endpoint %s, already"
                                + " named by %s: expected each endpoint in one DRHD; the earlier DRHD keeps it",
                                where, scope, scope.offset(), resolved.address(),
                                endpoints.get(resolved.address()).describe()));
                        continue;
                    }
                    scopes.add(resolved);
                }
                UnitRegisters regs = registers.apply(drhd);
                if (regs == null) {
                    regs = UnitRegisters.DEFAULT;
                }
                UnitDefinition unit = new UnitDefinition("dmar" + units.size(), drhd.segment(), drhd.registerBase(),
                        regs.cap(), regs.ecap(), drhd.includePciAll(), scopes);
                units.add(unit);
                bases.put(drhd.registerBase(), drhd);
                if (drhd.includePciAll()) {
                    includeAll.put(drhd.segment(), drhd);
                }
                for (DeviceScope scope : scopes) {
                    if (scope.type() == DeviceScope.Type.ENDPOINT) {
                        endpoints.put(scope.address(), drhd);
                    }
                }
            }
            return units;
        }

        List<ReservedRegion> reserved() {
            List<ReservedRegion> regions = new ArrayList<>();
            for (Rmrr rmrr : table.rmrrs()) {
                String where = table.source() + ": " + rmrr.describe();
                if ((rmrr.base() & 0xFFF) != 0 || ((rmrr.limit() + 1) & 0xFFF) != 0
                        || Long.compareUnsigned(rmrr.base(), rmrr.limit()) > 0) {
                    warnings.add(String.format("%s: region 0x%x-0x%x: expected a 4 KiB-aligned base and limit + 1,"
                            + " base <= limit (a firmware bug; the region is kept, as Linux does)", where,
                            rmrr.base(), rmrr.limit()));
                }
                List<DeviceScope> scopes = new ArrayList<>();
                for (Scope scope : rmrr.scopes()) {
                    if (scope.isPci()) {
                        DeviceScope resolved = resolved(where, rmrr.segment(), scope);
                        if (resolved != null && !scopes.contains(resolved)) {
                            scopes.add(resolved);
                        }
                    }
                }
                regions.add(new ReservedRegion(where, rmrr.segment(), rmrr.base(), rmrr.limit(), scopes));
            }
            return regions;
        }

        /**
         * The ATSRs and SATCs with their PCI scopes walked as the DRHDs' are
         * (Linux {@code dmar_parse_one_atsr}, {@code dmar_parse_one_satc});
         * an ATSR names root ports by bridge scopes, a SATC devices by
         * endpoint scopes; an ATSR with ALL_PORTS keeps no scope (Linux does
         * not insert its devices).
         */
        AtsReports ats() {
            List<AtsReports.Atsr> atsrs = new ArrayList<>();
            for (DmarTable.Atsr atsr : table.atsrs()) {
                String where = table.source() + ": " + atsr.describe();
                atsrs.add(new AtsReports.Atsr(where, atsr.segment(), atsr.allPorts(),
                        atsr.allPorts() ? List.of() : addresses(where, atsr.segment(), atsr.scopes())));
            }
            List<AtsReports.Satc> satcs = new ArrayList<>();
            for (DmarTable.Satc satc : table.satcs()) {
                String where = table.source() + ": " + satc.describe();
                satcs.add(new AtsReports.Satc(where, satc.segment(), (satc.flags() & 1) != 0,
                        addresses(where, satc.segment(), satc.scopes())));
            }
            return new AtsReports(atsrs, satcs);
        }

        private List<PciAddress> addresses(String where, int segment, List<Scope> scopes) {
            List<PciAddress> named = new ArrayList<>();
            for (Scope scope : scopes) {
                if (!scope.isPci()) {
                    continue;
                }
                Resolution r = resolve(segment, scope, topology);
                if (r.problem() == null) {
                    if (!named.contains(r.scope().address())) {
                        named.add(r.scope().address());
                    }
                } else if (!(noTopology && r.needsTopology())) {
                    // with no topology at all the ATS scopes wait, unsaid, for one: they name no unit's device
                    warnings.add(String.format("%s: device scope %s at offset 0x%x: %s; no device uses ATS by it",
                            where, scope, scope.offset(), r.problem()));
                }
            }
            return named;
        }

        private DeviceScope resolved(String where, int segment, Scope scope) {
            Resolution r = resolve(segment, scope, topology);
            if (r.problem() == null) {
                return r.scope();
            }
            if (noTopology && r.needsTopology()) {
                unresolved++;
            } else {
                warnings.add(String.format("%s: device scope %s at offset 0x%x: %s; it claims no device", where,
                        scope, scope.offset(), r.problem()));
            }
            return null;
        }

        /** RHSAs naming no DRHD, namespace scopes naming no ANDD. */
        void crossChecks() {
            Set<Long> bases = new HashSet<>();
            table.drhds().forEach(d -> bases.add(d.registerBase()));
            for (DmarTable.Rhsa rhsa : table.rhsas()) {
                if (!bases.contains(rhsa.registerBase())) {
                    warnings.add(String.format("%s: %s: register base 0x%x (proximity domain %d) names no DRHD of the"
                            + " table: expected the base of one; ignored", table.source(), rhsa.describe(),
                            rhsa.registerBase(), rhsa.proximityDomain()));
                }
            }
            Set<Integer> declared = new HashSet<>();
            table.andds().forEach(a -> declared.add(a.deviceNumber()));
            for (Drhd drhd : table.drhds()) {
                for (Scope scope : drhd.scopes()) {
                    if (scope.type() == Scope.NAMESPACE && !declared.contains(scope.enumerationId())) {
                        warnings.add(String.format("%s: %s: ACPI namespace device scope at offset 0x%x has"
                                + " enumeration id %d: expected the device number of an ANDD; none declares it",
                                table.source(), drhd.describe(), scope.offset(), scope.enumerationId()));
                    }
                }
            }
        }

        void summarizeUnresolved() {
            if (unresolved > 0) {
                warnings.add(String.format("%s: no PCI topology known: %d device scope%s naming a bridge or a path"
                        + " through bridges not resolved; they claim no device until a platform file or sysfs gives"
                        + " the bridges' bus numbers", table.source(), unresolved, unresolved == 1 ? "" : "s"));
            }
        }
    }
}
