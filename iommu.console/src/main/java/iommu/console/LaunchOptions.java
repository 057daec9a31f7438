package iommu.console;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command line of {@code java -jar iommu.jar} (DESIGN section 8), parsed
 * without touching the platform: pure, so it is unit-tested.
 */
record LaunchOptions(List<String> commands, Optional<Path> script, Optional<String> strategy,
        Optional<Path> platform, Optional<Path> state, boolean rebuildTables, boolean debug, boolean help,
        Optional<String> hostDomain, Optional<String> quarantine) {

    /** The values of {@code --host-domain}, as iommu.core's {@code hostDomain} configuration takes them. */
    static final List<String> HOST_DOMAINS = List.of("linux", "allocated", "none");

    /** The values of {@code --quarantine}, as iommu.core's {@code quarantine} configuration takes them. */
    static final List<String> QUARANTINES = List.of("none", "basic");

    static final String USAGE_HINT = "Try 'java -jar iommu.jar --help' for usage.";

    static final String USAGE = String.join("\n",
            "Usage: java -jar iommu.jar [OPTIONS] [SCRIPT]",
            "",
            "Starts the IOMMU domain-id platform with a Gogo console. Without -c, SCRIPT",
            "or commands piped on standard input it opens an interactive shell.",
            "",
            "Options:",
            "  -c, --command \"CMD; CMD\"  run the commands in order, then exit",
            "  SCRIPT                    run the commands of the file, one per line",
            "                            (blank lines and # comments are skipped), then exit",
            "  --strategy NAME           initial domain-id allocation strategy (global, per-unit)",
            "  --platform PATH           load the platform at PATH instead of the embedded default:",
            "                            an ACPI DMAR table, a sysfs-shaped directory or a platform file",
            "  --state DIR               keep assignments and mappings in DIR, across runs and crashes",
            "                            (one process at a time: a second one is refused)",
            "  --rebuild-tables          with --state: set aside (rename) table files that are refused",
            "                            and rebuild the units' tables from DIR's journal",
            "  --host-domain MODE        the host's own domain on each unit: linux (DID 1, the default),",
            "                            allocated (the lowest free id, as Xen's dom0) or none (no host",
            "                            domain, host-owned devices fault: the seed's accounting)",
            "  --quarantine MODE         where detach puts a guest's devices: none (back to the host",
            "                            domain, the default) or basic (no entry, DMA faults, until 'release')",
            "  --debug                   print stack traces of failures",
            "  -h, --help                print this help and exit",
            "",
            "A non-interactive run stops at the first failing command, prints its error",
            "on stderr and exits 0 when all commands succeeded, 1 when one failed, 2 on",
            "bad arguments (an unreadable --platform is 1, an unrecognized one 2).",
            "",
            "Commands (scope iommu; 'help NAME' explains one; listings take --json):",
            "  units, unit ID, devices, guests, guest ID, domains UNIT, occupancy [UNIT],",
            "  attach [--allow-reserved-memory] GUEST BDF..., detach BDF...,",
            "  map GUEST IOVA HPA [PAGES], unmap GUEST IOVA [PAGES], translate BDF IOVA,",
            "  ctx BDF, flush GUEST [IOVA PAGES], stats, verify, discover PATH, forget UNIT,",
            "  strategy [NAME], strategies, capacity [--devices-per-guest N].",
            "");

    /** A bad command line: exit code 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;
        private final boolean hint;

        UsageException(String message, boolean hint) {
            super(message);
            this.hint = hint;
        }

        /** Whether to follow the message with the usage hint. */
        boolean hint() {
            return hint;
        }
    }

    /** Whether the run executes given commands rather than a shell, before looking at stdin. */
    boolean hasCommands() {
        return !commands.isEmpty() || script.isPresent();
    }

    /**
     * Parses the launcher's arguments.
     *
     * @throws UsageException for an unknown option, a missing option value, a
     *         repeated option, an extra argument, or a script file that cannot be read
     */
    static LaunchOptions parse(String... args) throws UsageException {
        List<String> commands = new ArrayList<>();
        Path script = null;
        String strategy = null;
        Path platform = null;
        Path state = null;
        String hostDomain = null;
        String quarantine = null;
        boolean rebuildTables = false;
        boolean debug = false;
        boolean help = false;
        boolean optionsEnded = false;

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                if (arg.equals("-")) {
                    throw new UsageException("unexpected argument '-': expected a script file path"
                            + " (commands on standard input are read when it is not a terminal)", true);
                }
                if (script != null) {
                    throw new UsageException("unexpected argument '" + arg + "': expected at most one script file, got '"
                            + script + "' already", true);
                }
                script = Paths.get(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            String name = arg;
            String inline = null;
            if (arg.startsWith("--")) {
                int eq = arg.indexOf('=');
                if (eq > 0) {
                    name = arg.substring(0, eq);
                    inline = arg.substring(eq + 1);
                }
            }
            switch (name) {
                case "-h", "--help" -> {
                    noValue(name, inline);
                    help = true;
                }
                case "--debug" -> {
                    noValue(name, inline);
                    debug = true;
                }
                case "--rebuild-tables" -> {
                    noValue(name, inline);
                    rebuildTables = true;
                }
                case "-c", "--command" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "commands, e.g. -c \"iommu:units; iommu:guests\"");
                    commands.add(v);
                }
                case "--strategy" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "a strategy name, e.g. global or per-unit");
                    if (strategy != null) {
                        throw new UsageException("option --strategy given twice: expected it once", true);
                    }
                    if (v.isBlank()) {
                        throw new UsageException("option --strategy has an empty value: expected a strategy name, e.g. global or per-unit", true);
                    }
                    strategy = v.trim();
                }
                case "--platform" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "a path to a DMAR table, sysfs directory or platform file");
                    if (platform != null) {
                        throw new UsageException("option --platform given twice: expected it once", true);
                    }
                    platform = path(name, v);
                }
                case "--state" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "a state directory");
                    if (state != null) {
                        throw new UsageException("option --state given twice: expected it once", true);
                    }
                    state = path(name, v);
                }
                case "--host-domain" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "linux, allocated or none");
                    if (hostDomain != null) {
                        throw new UsageException("option --host-domain given twice: expected it once", true);
                    }
                    if (!HOST_DOMAINS.contains(v.trim())) {
                        throw new UsageException("option --host-domain '" + v + "' unknown: expected linux, allocated"
                                + " or none", true);
                    }
                    hostDomain = v.trim();
                }
                case "--quarantine" -> {
                    String v = inline != null ? inline : value(args, ++i, name, "none or basic");
                    if (quarantine != null) {
                        throw new UsageException("option --quarantine given twice: expected it once", true);
                    }
                    if (!QUARANTINES.contains(v.trim())) {
                        throw new UsageException("option --quarantine '" + v + "' unknown: expected none or basic", true);
                    }
                    quarantine = v.trim();
                }
                default -> throw new UsageException("unknown option '" + arg + "'", true);
            }
        }
        if (help) {
            return new LaunchOptions(List.copyOf(commands), Optional.ofNullable(script), Optional.ofNullable(strategy),
                    Optional.ofNullable(platform), Optional.ofNullable(state), rebuildTables, debug, true,
                    Optional.ofNullable(hostDomain), Optional.ofNullable(quarantine));
        }
        if (rebuildTables && state == null) {
            throw new UsageException("option --rebuild-tables needs --state DIR: expected the state directory whose"
                    + " journal the tables are rebuilt from", true);
        }
        if (script != null && !commands.isEmpty()) {
            throw new UsageException("both -c and script file '" + script + "' given: expected one of them", true);
        }
        if (script != null) {
            if (!Files.exists(script)) {
                throw new UsageException("script file '" + script + "' not found", true);
            }
            if (Files.isDirectory(script)) {
                throw new UsageException("script file '" + script + "' is a directory: expected a file of commands", true);
            }
            if (!Files.isReadable(script)) {
                throw new UsageException("script file '" + script + "' is not readable", true);
            }
        }
        return new LaunchOptions(List.copyOf(commands), Optional.ofNullable(script), Optional.ofNullable(strategy),
                Optional.ofNullable(platform), Optional.ofNullable(state), rebuildTables, debug, false,
                Optional.ofNullable(hostDomain), Optional.ofNullable(quarantine));
    }

    /**
     * Checks the paths of the options.
     */
    void checkAvailable() throws UsageException {
        if (platform.isPresent()) {
            Path p = platform.get();
            if (!Files.exists(p)) {
                throw new UsageException("--platform '" + p + "' not found: expected a DMAR table, a sysfs directory or a platform file", false);
            }
        }
        if (state.isPresent()) {
            Path p = state.get();
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new UsageException("--state '" + p + "' is not a directory: expected a state directory", false);
            }
        }
    }

    private static void noValue(String name, String inline) throws UsageException {
        if (inline != null) {
            throw new UsageException("option " + name + " takes no value, got '" + inline + "'", true);
        }
    }

    private static String value(String[] args, int i, String name, String expected) throws UsageException {
        if (i >= args.length) {
            throw new UsageException("option " + name + " needs a value: expected " + expected, true);
        }
        return args[i];
    }

    private static Path path(String name, String v) throws UsageException {
        if (v.isBlank()) {
            throw new UsageException("option " + name + " has an empty value: expected a path", true);
        }
        try {
            return Paths.get(v);
        } catch (RuntimeException e) {
            throw new UsageException("option " + name + ": malformed path '" + v + "': " + e.getMessage(), true);
        }
    }
}
