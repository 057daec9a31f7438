package iommu.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

import iommu.api.dto.DeviceDTO;
import iommu.api.dto.DiscoveryDTO;
import iommu.api.dto.FlushReportDTO;
import iommu.api.dto.GuestDTO;
import iommu.api.dto.GuestDeviceDTO;
import iommu.api.dto.InvalidationDTO;
import iommu.api.dto.UnitDTO;
import iommu.api.spi.Translation;

/**
 * What the commands return: objects, so that Gogo variables and pipes work
 * ({@code g = guest 1; $g devices}), with public fields a script can read.
 * The shell prints them through {@link ResultConverter} (or their
 * {@code toString()} where no converter is registered): an aligned table or
 * key/value block for people, or JSON when the command was given
 * {@code --json}.
 *
 * <p>JSON field names are a contract (documented in the README): every
 * object below builds its JSON from a map in a fixed order.
 */
public final class Results {

    private Results() {
    }

    /** A command's result: text for people, JSON for scripts. */
    public abstract static class Result {
        /** Whether the command was asked for JSON. */
        public final boolean json;

        Result(boolean json) {
            this.json = json;
        }

        /** The text a person reads. */
        abstract String text();

        /** The JSON value; null when the result has no JSON form. */
        Object jsonValue() {
            return null;
        }

        /** The JSON text; null when the result has no JSON form. */
        String jsonText() {
            Object v = jsonValue();
            return v == null ? null : Formats.json(v);
        }

        /** One line, for a result shown inside a list. */
        String line() {
            String t = text();
            int nl = t.indexOf('\n');
            return nl < 0 ? t : t.substring(0, nl);
        }

        @Override
        public final String toString() {
            String j = json ? jsonText() : null;
            return j != null ? j : text();
        }
    }

    // ------------------------------------------------------------ state

    /** {@code state}: where state is kept and what the last recovery reported. */
    public static final class State extends Result {
        public final String directory;
        public final int restored;
        public final List<String> problems;

        State(iommu.api.dto.StateDTO state, boolean json) {
            super(json);
            this.directory = state.directory;
            this.restored = state.restored;
            this.problems = state.problems == null ? List.of() : List.copyOf(state.problems);
        }

        @Override
        String text() {
            KeyValues kv = new KeyValues();
            if (directory == null) {
                kv.put("state", "ephemeral (no --state): nothing is kept after exit");
            } else {
                kv.put("state", "kept in " + directory + " (the core's journal; VT-d units' tables in vtd/)");
                kv.put("restored", restored + (restored == 1 ? " attachment" : " attachments")
                        + " written again from the journal");
                kv.put("disagreements", problems.isEmpty() ? "none" : Integer.toString(problems.size()));
            }
            StringBuilder b = new StringBuilder(kv.render());
            for (String p : problems) {
                b.append("\n  ").append(CoreText.oneLine(p));
            }
            return b.toString();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("directory", directory);
            j.put("restored", restored);
            j.put("problems", problems);
            return j;
        }
    }

    // ------------------------------------------------------------ listings

    /** {@code units}. */
    public static final class Units extends Result {
        public final List<UnitDTO> units;

        Units(List<UnitDTO> units, boolean json) {
            super(json);
            this.units = List.copyOf(units);
        }

        @Override
        String text() {
            return Formats.unitsTable(units);
        }

        @Override
        String line() {
            return units.size() + " units";
        }

        @Override
        String jsonText() {
            return Formats.unitsJson(units);
        }
    }

    /** {@code devices}. */
    public static final class Devices extends Result {
        public final List<DeviceDTO> devices;

        Devices(List<DeviceDTO> devices, boolean json) {
            super(json);
            this.devices = List.copyOf(devices);
        }

        @Override
        String text() {
            return Formats.devicesTable(devices);
        }

        @Override
        String line() {
            return devices.size() + " devices";
        }

        @Override
        String jsonText() {
            return Formats.devicesJson(devices);
        }
    }

    /** {@code guests}. */
    public static final class Guests extends Result {
        public final List<GuestDTO> guests;

        Guests(List<GuestDTO> guests, boolean json) {
            super(json);
            this.guests = List.copyOf(guests);
        }

        @Override
        String text() {
            return Formats.guestsTable(guests);
        }

        @Override
        String line() {
            return guests.size() + " guests";
        }

        @Override
        String jsonText() {
            return Formats.guestsJson(guests);
        }
    }

    // ------------------------------------------------------------ inspect forms

    /** {@code unit ID}: the unit's decoded registers and its usage. */
    public static final class Unit extends Result {
        public final UnitDTO unit;
        /** {@code IommuUnit.describe()}: registers and capabilities decoded by name. */
        public final Map<String, Object> decoded;
        /** Domain id to guest, from the domain-id map. */
        public final Map<Integer, Integer> domains;
        public final int attachedDevices;

        Unit(UnitDTO unit, Map<String, Object> decoded, Map<Integer, Integer> domains, int attachedDevices,
                boolean json) {
            super(json);
            this.unit = unit;
            this.decoded = decoded;
            this.domains = domains;
            this.attachedDevices = attachedDevices;
        }

        int free() {
            return Math.max(0, unit.domainIds - (unit.reserved == null ? 0 : unit.reserved.length) - unit.usedDomainIds);
        }

        @Override
        String text() {
            KeyValues kv = new KeyValues();
            kv.put("unit", unit.id);
            kv.put("vendor", unit.vendor);
            kv.put("segment", String.format("%04x", unit.segment));
            kv.put("register base", Formats.hex(unit.registerBase));
            kv.put("include PCI all", unit.includePciAll ? "yes" : "no");
            kv.put("domain ids", unit.domainIds + " (" + unit.usedDomainIds + " used, "
                    + (unit.reserved == null ? 0 : unit.reserved.length) + " reserved: " + ints(unit.reserved) + ", "
                    + free() + " free)");
            kv.put("devices", unit.devices + " (" + attachedDevices + " attached)");
            kv.put("guests", domains.isEmpty() ? "-" : join(domains.values().stream().distinct().sorted().toList()));
            StringBuilder sb = new StringBuilder(kv.render());
            if (!decoded.isEmpty()) {
                sb.append("\ndecoded registers (IommuUnit.describe):\n");
                KeyValues d = new KeyValues("  ");
                decoded.forEach((k, v) -> d.put(k, v));
                sb.append(d.render());
            }
            return sb.toString();
        }

        @Override
        String line() {
            return unit.id + " (" + unit.vendor + ", " + unit.usedDomainIds + "/" + unit.domainIds + " domain ids used)";
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("id", unit.id);
            j.put("vendor", unit.vendor);
            j.put("segment", unit.segment);
            j.put("registerBase", Formats.hex(unit.registerBase));
            j.put("includePciAll", unit.includePciAll);
            j.put("domainIds", unit.domainIds);
            j.put("reserved", unit.reserved == null ? new int[0] : unit.reserved);
            j.put("usedDomainIds", unit.usedDomainIds);
            j.put("freeDomainIds", free());
            j.put("devices", unit.devices);
            j.put("attachedDevices", attachedDevices);
            j.put("guests", domains.values().stream().distinct().sorted().toList());
            j.put("decoded", decoded);
            return j;
        }
    }

    /** {@code guest ID}, and what {@code attach} returns: a guest's devices and its domain id on each unit. */
    public static final class Guest extends Result {
        public final GuestDTO guest;
        /** Unit id to the guest's domain id there. */
        public final Map<String, Integer> domainIds;

        Guest(GuestDTO guest, Map<String, Integer> domainIds, boolean json) {
            super(json);
            this.guest = guest;
            this.domainIds = domainIds;
        }

        @Override
        String text() {
            int devices = guest.devices == null ? 0 : guest.devices.size();
            StringBuilder sb = new StringBuilder();
            sb.append("guest ").append(guest.guest).append(": ").append(devices).append(devices == 1 ? " device" : " devices")
                    .append(" on ").append(domainIds.size()).append(domainIds.size() == 1 ? " unit" : " units");
            StringJoiner ids = new StringJoiner(", ");
            domainIds.forEach((u, d) -> ids.add(u + " DID " + d));
            sb.append(domainIds.isEmpty() ? "" : " (" + ids + ")").append('\n');
            sb.append(Formats.guestTable(guest));
            return sb.toString();
        }

        @Override
        String line() {
            return "guest " + guest.guest + " (" + (guest.devices == null ? 0 : guest.devices.size()) + " devices)";
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("guest", guest.guest);
            List<Map<String, Object>> devices = new ArrayList<>();
            if (guest.devices != null) {
                for (GuestDeviceDTO d : guest.devices) {
                    Map<String, Object> dj = new LinkedHashMap<>();
                    dj.put("bdf", d.bdf);
                    dj.put("unit", d.unit);
                    dj.put("did", d.did);
                    devices.add(dj);
                }
            }
            j.put("devices", devices);
            j.put("domainIds", domainIds);
            return j;
        }
    }

    /** One domain id of a unit and who holds it. */
    public record DomainRow(int did, int guest, List<String> devices) {
    }

    /** {@code domains UNIT}: domain id to guest on one unit. */
    public static final class Domains extends Result {
        public final String unit;
        public final int domainIds;
        public final int[] reserved;
        public final List<DomainRow> domains;

        Domains(String unit, int domainIds, int[] reserved, List<DomainRow> domains, boolean json) {
            super(json);
            this.unit = unit;
            this.domainIds = domainIds;
            this.reserved = reserved == null ? new int[0] : reserved.clone();
            this.domains = List.copyOf(domains);
        }

        @Override
        String text() {
            StringBuilder sb = new StringBuilder();
            sb.append(unit).append(": ").append(domains.size()).append(" of ").append(domainIds)
                    .append(" domain ids in use (reserved: ").append(ints(reserved)).append(")");
            if (domains.isEmpty()) {
                return sb.toString();
            }
            Table t = new Table("DID", "GUEST", "DEVICES", "BDF").alignRight(0, 1, 2);
            for (DomainRow r : domains) {
                List<String> shown = r.devices().size() <= 3 ? r.devices() : r.devices().subList(0, 3);
                t.row(r.did(), r.guest(), r.devices().size(),
                        String.join(" ", shown) + (r.devices().size() > 3 ? " ..." : ""));
            }
            return sb.append('\n').append(t.render()).toString();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("unit", unit);
            j.put("domainIds", domainIds);
            j.put("reserved", reserved);
            List<Map<String, Object>> rows = new ArrayList<>();
            for (DomainRow r : domains) {
                Map<String, Object> rj = new LinkedHashMap<>();
                rj.put("did", r.did());
                rj.put("guest", r.guest());
                rj.put("devices", r.devices());
                rows.add(rj);
            }
            j.put("domains", rows);
            return j;
        }
    }

    /** {@code ctx BDF}: a device's context entry as its unit holds it. */
    public static final class Context extends Result {
        public final String bdf;
        public final String unit;
        public final Integer guest;
        /** {@code IommuUnit.describeContext(device)}. */
        public final Map<String, Object> context;

        Context(String bdf, String unit, Integer guest, Map<String, Object> context, boolean json) {
            super(json);
            this.bdf = bdf;
            this.unit = unit;
            this.guest = guest;
            this.context = context;
        }

        @Override
        String text() {
            KeyValues kv = new KeyValues();
            kv.put("device", bdf);
            kv.put("unit", unit);
            kv.put("guest", guest == null ? "- (host)" : guest);
            StringBuilder sb = new StringBuilder(kv.render()).append("\ncontext entry (IommuUnit.describeContext):\n");
            KeyValues c = new KeyValues("  ");
            context.forEach(c::put);
            sb.append(context.isEmpty() ? "  (the unit does not translate this device)" : c.render());
            return sb.toString();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("bdf", bdf);
            j.put("unit", unit);
            j.put("guest", guest);
            j.put("context", context);
            return j;
        }
    }

    /** {@code translate BDF IOVA}: the DMA's host address or its fault; a fault is a result. */
    public static final class Translated extends Result {
        public final String bdf;
        public final String unit;
        public final Integer guest;
        public final Integer did;
        public final Translation translation;

        Translated(String bdf, String unit, Integer guest, Integer did, Translation translation, boolean json) {
            super(json);
            this.bdf = bdf;
            this.unit = unit;
            this.guest = guest;
            this.did = did;
            this.translation = translation;
        }

        public boolean fault() {
            return translation.isFault();
        }

        @Override
        String text() {
            String who = guest == null ? "host-owned, no context entry" : "guest " + guest + ", DID " + did;
            String head = bdf + " on " + unit + " (" + who + "): IOVA " + Numbers.hex(translation.iova());
            if (translation.isFault()) {
                return head + " -> fault " + String.format("0x%x", translation.faultReason())
                        + (translation.fault() == null ? "" : ": " + CoreText.oneLine(translation.fault()));
            }
            return head + " -> host " + Numbers.hex(translation.hostAddress().getAsLong());
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("bdf", bdf);
            j.put("unit", unit);
            j.put("guest", guest);
            j.put("did", did);
            j.put("iova", Numbers.hex(translation.iova()));
            j.put("hostAddress", translation.isFault() ? null : Numbers.hex(translation.hostAddress().getAsLong()));
            if (translation.isFault()) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("reason", translation.faultReason());
                f.put("description", translation.fault());
                j.put("fault", f);
            } else {
                j.put("fault", null);
            }
            return j;
        }
    }

    /** {@code flush GUEST [IOVA PAGES]}: what was issued, per unit and granularity. */
    public static final class Flushed extends Result {
        public final int guest;
        public final List<InvalidationDTO> invalidations;

        Flushed(int guest, FlushReportDTO report, boolean json) {
            super(json);
            this.guest = guest;
            this.invalidations = report == null || report.invalidations == null ? List.of()
                    : List.copyOf(report.invalidations);
        }

        @Override
        String text() {
            if (invalidations.isEmpty()) {
                return "guest " + guest + " holds no domain id: nothing to invalidate";
            }
            Map<String, Map<String, Integer>> perUnit = new LinkedHashMap<>();
            for (InvalidationDTO i : invalidations) {
                perUnit.computeIfAbsent(i.unit, u -> new LinkedHashMap<>()).merge(i.granularity, 1, Integer::sum);
            }
            StringJoiner summary = new StringJoiner("; ");
            perUnit.forEach((u, g) -> {
                StringJoiner s = new StringJoiner(", ");
                g.forEach((gran, n) -> s.add(gran + "=" + n));
                summary.add(u + ": " + s);
            });
            Table t = new Table("UNIT", "GRANULARITY", "DID", "BDF", "IOVA", "PAGES").alignRight(2, 5);
            for (InvalidationDTO i : invalidations) {
                t.row(i.unit, i.granularity, i.did, i.bdf, i.iova == null ? null : Numbers.hex(i.iova), i.pages);
            }
            return "guest " + guest + ": " + invalidations.size()
                    + (invalidations.size() == 1 ? " invalidation" : " invalidations") + " completed on " + perUnit.size()
                    + (perUnit.size() == 1 ? " unit" : " units") + " (" + summary + ")\n" + t.render();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("guest", guest);
            List<Map<String, Object>> list = new ArrayList<>();
            for (InvalidationDTO i : invalidations) {
                Map<String, Object> ij = new LinkedHashMap<>();
                ij.put("unit", i.unit);
                ij.put("granularity", i.granularity);
                ij.put("did", i.did);
                ij.put("bdf", i.bdf);
                ij.put("iova", i.iova == null ? null : Numbers.hex(i.iova));
                ij.put("pages", i.pages);
                list.add(ij);
            }
            j.put("invalidations", list);
            return j;
        }
    }

    /** One unit's row of {@code stats}. */
    public record StatsRow(String unit, int domainIds, int reserved, int used, int free, Map<String, Long> allocations,
            Map<String, Long> invalidations) {
    }

    /** {@code stats}: per unit, domain ids, what the allocator did, and invalidations by granularity. */
    public static final class Stats extends Result {
        static final List<String> GRANULARITIES = List.of("device", "domain", "pages", "global");

        public final List<StatsRow> units;

        Stats(List<StatsRow> units, boolean json) {
            super(json);
            this.units = List.copyOf(units);
        }

        @Override
        String text() {
            if (units.isEmpty()) {
                return "no IOMMU unit present";
            }
            Table t = new Table("UNIT", "DIDS", "RESERVED", "USED", "FREE", "ALLOCATED", "RELEASED", "FAILED",
                    "QUARANTINED", "INV-DEVICE", "INV-DOMAIN", "INV-PAGES", "INV-GLOBAL")
                    .alignRight(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
            StringBuilder more = new StringBuilder();
            for (StatsRow r : units) {
                Map<String, Long> c = r.invalidations();
                Map<String, Long> a = r.allocations();
                t.row(r.unit(), r.domainIds(), r.reserved(), r.used(), r.free(), a.getOrDefault("allocations", 0L),
                        a.getOrDefault("releases", 0L), a.getOrDefault("failures", 0L), a.getOrDefault("quarantined", 0L),
                        c.getOrDefault("device", 0L),
                        c.getOrDefault("domain", 0L), c.getOrDefault("pages", 0L), c.getOrDefault("global", 0L));
                StringJoiner other = new StringJoiner("  ");
                c.forEach((k, v) -> {
                    if (!GRANULARITIES.contains(k) && v != 0) {
                        other.add(k + "=" + v);
                    }
                });
                if (other.length() > 0) {
                    more.append('\n').append(r.unit()).append("  ").append(other);
                }
            }
            String s = t.render();
            if (more.length() > 0) {
                s += "\nother counters the units report (non-zero):" + more;
            }
            return s;
        }

        @Override
        Object jsonValue() {
            List<Map<String, Object>> list = new ArrayList<>();
            for (StatsRow r : units) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("unit", r.unit());
                j.put("domainIds", r.domainIds());
                j.put("reserved", r.reserved());
                j.put("used", r.used());
                j.put("free", r.free());
                j.put("allocations", r.allocations());
                j.put("invalidations", r.invalidations());
                list.add(j);
            }
            return list;
        }
    }

    /** One strategy service as {@code strategies} lists it. */
    public record StrategyRow(String name, String bundle, int ranking, boolean bound, long capacity, String description) {
    }

    /** {@code strategies}. */
    public static final class Strategies extends Result {
        public final List<StrategyRow> strategies;

        Strategies(List<StrategyRow> strategies, boolean json) {
            super(json);
            this.strategies = List.copyOf(strategies);
        }

        @Override
        String text() {
            if (strategies.isEmpty()) {
                return "no allocation strategy is registered";
            }
            Table t = new Table("NAME", "BUNDLE", "RANKING", "BOUND", "CAPACITY", "DESCRIPTION").alignRight(2, 4);
            for (StrategyRow s : strategies) {
                t.row(s.name(), s.bundle(), s.ranking(), s.bound() ? "yes" : "no", s.capacity(), s.description());
            }
            return t.render();
        }

        @Override
        Object jsonValue() {
            List<Map<String, Object>> list = new ArrayList<>();
            for (StrategyRow s : strategies) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("name", s.name());
                j.put("bundle", s.bundle());
                j.put("ranking", s.ranking());
                j.put("bound", s.bound());
                j.put("capacity", s.capacity());
                j.put("description", s.description());
                list.add(j);
            }
            return list;
        }
    }

    /** {@code capacity}: the planner's inputs and what each strategy admits. */
    public static final class Capacity extends Result {
        public final int devicesPerGuest;
        final CapacityPlan plan;
        final List<CapacityPlan.StrategyRow> strategies;

        Capacity(CapacityPlan plan, List<CapacityPlan.StrategyRow> strategies, boolean json) {
            super(json);
            this.devicesPerGuest = plan.devicesPerGuest;
            this.plan = plan;
            this.strategies = List.copyOf(strategies);
        }

        @Override
        String text() {
            int n = devicesPerGuest;
            StringBuilder sb = new StringBuilder();
            sb.append(n).append(n == 1 ? " device" : " devices").append(" per guest, all under one unit; fit = floor(devices / ")
                    .append(n).append("), usable = domain ids - reserved\n");
            Table t = new Table("UNIT", "DIDS", "RESERVED", "USABLE", "DEVICES", "FIT", "PER-UNIT")
                    .alignRight(1, 2, 3, 4, 5, 6);
            for (CapacityPlan.UnitRow r : plan.units) {
                t.row(r.unit(), r.load().unit().domainIdCount(), r.load().unit().reserved().size(),
                        r.load().unit().usable(), r.load().devices(), r.fit(), r.perUnit());
            }
            t.row("total", null, null, null, plan.units.stream().mapToInt(r -> r.load().devices()).sum(), plan.fitSum,
                    plan.perUnitSum);
            sb.append(t.render()).append("\n\n");
            Table s = new Table("STRATEGY", "ADMITS", "HOW").alignRight(1);
            for (CapacityPlan.StrategyRow r : strategies) {
                s.row(r.strategy(), r.admits(), r.model());
            }
            sb.append(strategies.isEmpty() ? "no allocation strategy is registered" : s.render());
            return sb.toString();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("devicesPerGuest", devicesPerGuest);
            List<Map<String, Object>> units = new ArrayList<>();
            for (CapacityPlan.UnitRow r : plan.units) {
                Map<String, Object> u = new LinkedHashMap<>();
                u.put("unit", r.unit());
                u.put("domainIds", r.load().unit().domainIdCount());
                u.put("reserved", r.load().unit().reserved().size());
                u.put("usable", r.load().unit().usable());
                u.put("devices", r.load().devices());
                u.put("fit", r.fit());
                u.put("perUnit", r.perUnit());
                units.add(u);
            }
            j.put("units", units);
            List<Map<String, Object>> list = new ArrayList<>();
            for (CapacityPlan.StrategyRow r : strategies) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("strategy", r.strategy());
                s.put("admits", r.admits());
                s.put("model", r.model());
                list.add(s);
            }
            j.put("strategies", list);
            return j;
        }
    }

    /** {@code discover PATH}: what a discovery registered. */
    public static final class Discovered extends Result {
        public final String vendor;
        public final DiscoveryDTO discovery;

        Discovered(String vendor, DiscoveryDTO discovery, boolean json) {
            super(json);
            this.vendor = vendor;
            this.discovery = discovery;
        }

        @Override
        String text() {
            List<String> units = discovery.units == null ? List.of() : discovery.units;
            List<String> warnings = discovery.warnings == null ? List.of() : discovery.warnings;
            KeyValues kv = new KeyValues();
            kv.put("source", discovery.source);
            kv.put("format", discovery.format + " (vendor " + vendor + ")");
            kv.put("units", units.isEmpty() ? "none registered" : units.size() + ": " + String.join(", ", units));
            kv.put("devices", discovery.devices);
            kv.put("warnings", warnings.isEmpty() ? "none" : Integer.toString(warnings.size()));
            StringBuilder sb = new StringBuilder(kv.render());
            for (String w : warnings) {
                sb.append("\n  ").append(CoreText.oneLine(w));
            }
            return sb.toString();
        }

        @Override
        Object jsonValue() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("source", discovery.source);
            j.put("format", discovery.format);
            j.put("vendor", vendor);
            j.put("units", discovery.units == null ? List.of() : discovery.units);
            j.put("devices", discovery.devices);
            j.put("warnings", discovery.warnings == null ? List.of() : discovery.warnings);
            return j;
        }
    }

    // ------------------------------------------------------------ helpers

    static String ints(int[] values) {
        if (values == null || values.length == 0) {
            return "none";
        }
        StringJoiner j = new StringJoiner(",");
        for (int v : values) {
            j.add(Integer.toString(v));
        }
        return j.toString();
    }

    static String join(List<?> values) {
        StringJoiner j = new StringJoiner(", ");
        values.forEach(v -> j.add(String.valueOf(v)));
        return j.toString();
    }

    /** An aligned key/value block, as {@code scr:info} prints one. */
    static final class KeyValues {
        private final String indent;
        private final List<String[]> rows = new ArrayList<>();

        KeyValues() {
            this("");
        }

        KeyValues(String indent) {
            this.indent = indent;
        }

        void put(String key, Object value) {
            rows.add(new String[] {key, value == null ? "-" : String.valueOf(value)});
        }

        String render() {
            int w = 0;
            for (String[] r : rows) {
                w = Math.max(w, r[0].length());
            }
            StringJoiner out = new StringJoiner("\n");
            for (String[] r : rows) {
                out.add(indent + r[0] + " ".repeat(w - r[0].length() + 2) + r[1]);
            }
            return out.toString();
        }
    }
}
