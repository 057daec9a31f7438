package iommu.console;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The commands of scope {@code iommu}, once: their names (what the console
 * registers as {@code osgi.command.function}, what help and completion list)
 * and each one's synopsis (for errors about its arguments, and the README's
 * table). A command method of {@link IommuCommands} exists for each, and for
 * nothing else (tests hold the two, and the README, together).
 */
final class CommandList {

    static final String SCOPE = "iommu";

    /** Each command's synopsis, in the README's order. */
    static final Map<String, String> USAGE;

    static {
        Map<String, String> u = new LinkedHashMap<>();
        u.put("units", "units [--json]");
        u.put("unit", "unit [--json] ID");
        u.put("devices", "devices [--json]");
        u.put("guests", "guests [--json]");
        u.put("guest", "guest [--json] ID");
        u.put("attach", "attach [--allow-reserved-memory] [--group] GUEST BDF... (one BDF with --group)");
        u.put("detach", "detach [--group] BDF... (one BDF with --group)");
        u.put("domains", "domains [--json] UNIT");
        u.put("ctx", "ctx [--json] BDF");
        u.put("map", "map GUEST IOVA HPA [PAGES]");
        u.put("unmap", "unmap GUEST IOVA [PAGES]");
        u.put("translate", "translate [--json] BDF IOVA");
        u.put("flush", "flush [--json] GUEST [IOVA PAGES]");
        u.put("stats", "stats [--json]");
        u.put("discover", "discover [--json] PATH");
        u.put("forget", "forget UNIT");
        u.put("strategy", "strategy [NAME]");
        u.put("strategies", "strategies [--json]");
        u.put("capacity", "capacity [--json] [--devices-per-guest N]");
        u.put("verify", "verify");
        u.put("state", "state [--json]");
        u.put("occupancy", "occupancy [UNIT]");
        // new commands are appended, so that the fuzz test's committed seeds keep their meaning
        u.put("groups", "groups [--json]");
        u.put("group", "group [--json] ID|BDF");
        u.put("regions", "regions [--json] BDF");
        u.put("release", "release [--group] BDF... (one BDF with --group)");
        USAGE = Collections.unmodifiableMap(u);
    }

    private CommandList() {
    }

    /** The command names, in the README's order. */
    static Set<String> names() {
        return USAGE.keySet();
    }

    /** The service properties under which Gogo finds the commands. */
    static java.util.Dictionary<String, Object> serviceProperties() {
        java.util.Hashtable<String, Object> p = new java.util.Hashtable<>();
        p.put("osgi.command.scope", SCOPE);
        p.put("osgi.command.function", names().toArray(String[]::new));
        return p;
    }
}
