package iommu.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.lang.reflect.UndeclaredThrowableException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.Reflective;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.gson.JsonParser;

import iommu.api.FlushService;
import iommu.api.GuestId;
import iommu.api.IommuException;
import iommu.api.Quoted;
import iommu.api.dto.FlushReportDTO;

/**
 * Coverage-guided fuzzing (Jazzer) of the console's command arguments (DESIGN
 * sections 7.7 and 9): every public command method of {@link IommuCommands},
 * on the fake two-unit platform of {@link FakeAssignment}, gives a result or
 * fails with the console's own clear error: an {@link IllegalArgumentException}
 * or {@link IommuException} (or one of the console's subclasses) whose message
 * is one line, with no control character, no broken surrogate pair, no stack
 * trace, and input echoed cut. A refused command changes nothing: the fakes'
 * state (assignments, domain ids, mappings, flushes issued, units forgotten,
 * strategy and its configuration) is the same after it as before; a command
 * that only reads changes nothing even when it succeeds.
 *
 * <p>One input is up to four commands in a row on the same fakes, so later
 * commands meet the state earlier ones made (a detach after an attach). Each
 * command is called one of two ways, as the input says:
 * <ul>
 * <li>directly, as {@link IommuCommandsTest} does: the input picks the command
 * and its overload and gives each parameter (each {@code --json} or other flag
 * a boolean, each argument a word); the exception's own message must be one
 * clear line;</li>
 * <li>through Gogo's {@link Reflective#invoke}, as the shell does with the words
 * typed after the command: option words ({@code --json},
 * {@code --allow-reserved-memory}, {@code --devices-per-guest}) among the
 * arguments, Gogo picking the overload; the line printed,
 * {@link Errors#message}, must be one clear line.</li>
 * </ul>
 *
 * <p>Input layout ({@link FuzzedDataProvider}): choices are read from the end
 * of the input, one byte each (value modulo the number of choices); fuzzed
 * words from the front, each as modified UTF-8 ended by a backslash and one
 * more byte (a doubled backslash is one backslash). Per input: the number of
 * commands (1..4); per command: the command ({@link #NAMES} index), how to call
 * it (bit 0: through Gogo), then directly the overload (by parameter count) and
 * per parameter a boolean byte, a word, or for {@code String...} a count 0..4
 * and the words; through Gogo a count 0..6 and the words. A word is a byte
 * 0..63: below 3 an option of {@link #OPTIONS}, below 3 + {@link #WORDS} a
 * dictionary word, else a fuzzed string of up to 160 characters. Keep
 * {@link #NAMES}, {@link #OPTIONS} and {@link #WORDS} append-only, so the
 * committed seeds keep their meaning.
 *
 * <p>{@code mvn -B verify} runs the regression mode: once per seed in
 * {@code src/test/resources/iommu/console/ConsoleArgumentsFuzzTestInputs/commands/}
 * (named for what they do). {@code JAZZER_FUZZ=1} fuzzes for
 * {@code maxDuration} (README.md, "Guarantees"); a crashing input found then
 * goes into that folder, and stays there as a regression seed once fixed.
 */
class ConsoleArgumentsFuzzTest {

    /** The commands, in {@link CommandList#USAGE} order (new commands are appended there). */
    static final List<String> NAMES = List.copyOf(CommandList.USAGE.keySet());

    /** The console's converter, which Gogo asks for the commands' typed arguments. */
    static final ConsoleConverter CONVERTER = new ConsoleConverter();

    /** Option words, as typed. */
    static final List<String> OPTIONS = List.of("--json", "--allow-reserved-memory", "--devices-per-guest");

    /** A platform file the fake discovery recognizes, for {@code discover}. */
    static final Path PLATFORM_FILE = platformFile();

    /** Words that reach past the parsing: devices, guests, units, strategies, numbers at the edges. */
    static final List<String> WORDS = List.of(
            "0000:3b:00.1", "3b:00.0", "0000:5e:00.3", "0000:5e:00.0", "0000:99:00.0",
            "1", "2", "32751", "32752", "0", "-1",
            "0x1000", "0x2000", "4096", "0x7ffffffffffff000", "99999999999999999999",
            "dmar0", "dmar1", "dmar", "global", "per-unit",
            "", " ", PLATFORM_FILE.toString(),
            "--group", "0000:5e:00.1"); // appended: an option of attach and detach, a member of the bridge's group

    /** Fuzzed words are at most this long: longer than the 64 characters an error echoes. */
    static final int MAX_WORD = 160;

    /** Commands that only read: they change nothing even when they succeed. */
    static final Set<String> READ_ONLY = Set.of("units", "unit", "devices", "guests", "guest", "domains", "ctx",
            "translate", "stats", "strategies", "capacity", "verify", "occupancy", "state", "groups", "group");

    /** Per command, its public methods, fewest parameters first. */
    static final Map<String, List<Method>> METHODS = commandMethods();

    /** A Gogo session with the console's converter, as the shell has it. */
    static final CommandSession GOGO = gogo();

    private static CommandSession gogo() {
        CommandProcessorImpl processor = new CommandProcessorImpl(new ThreadIOImpl());
        processor.addConverter(CONVERTER);
        return processor.createSession(InputStream.nullInputStream(), OutputStream.nullOutputStream(),
                OutputStream.nullOutputStream());
    }

    @FuzzTest(maxDuration = "5m")
    void commands(FuzzedDataProvider data) throws Exception {
        Platform p = new Platform();
        int commands = data.consumeInt(1, 4);
        for (int i = 0; i < commands; i++) {
            String name = NAMES.get(data.consumeInt(0, NAMES.size() - 1));
            boolean viaGogo = data.consumeBoolean();
            State before = p.state();
            Object result;
            String call = name;
            int given = 0;
            List<String> typed = new ArrayList<>();
            try {
                if (viaGogo) {
                    List<Object> words = new ArrayList<>();
                    int n = data.consumeInt(0, 6);
                    for (int w = 0; w < n; w++) {
                        words.add(word(data));
                    }
                    call = name + " " + words;
                    given = words.size();
                    words.forEach(w -> typed.add((String) w));
                    result = Reflective.invoke(GOGO, p.cmd, name, words);
                } else {
                    List<Method> overloads = METHODS.get(name);
                    Method m = overloads.get(data.consumeInt(0, overloads.size() - 1));
                    Object[] args = arguments(m, data);
                    call = name + " " + Arrays.deepToString(args);
                    given = args.length;
                    typed.addAll(words(args));
                    result = invoke(p.cmd, m, args);
                }
            } catch (Exception e) {
                Throwable t = unwrap(e);
                assertClearError(t, viaGogo ? Errors.message(t) : t.getMessage(), call, typed);
                assertThat(p.state()).as("state after refused %s (%s)", call, t.getMessage()).isEqualTo(before);
                continue;
            }
            assertRenders(result);
            if (READ_ONLY.contains(name) || name.equals("strategy") && given == 0) {
                assertThat(p.state()).as("state after %s", call).isEqualTo(before);
            }
        }
    }

    // ------------------------------------------------------------ the contract

    /** Whether the exception is one of the console's clear errors (Gogo's own refusals are plain IllegalArgumentExceptions). */
    static boolean isClearErrorType(Throwable t) {
        if (t.getClass() == IllegalArgumentException.class || t.getClass() == IommuException.class) {
            return true;
        }
        return (t instanceof IllegalArgumentException || t instanceof IommuException)
                && t.getClass().getName().startsWith("iommu.");
    }

    static void assertClearError(Throwable t, String line, String call, List<String> typed) {
        if (!isClearErrorType(t)) {
            throw new AssertionError(call + ": not one of the console's clear errors: " + t, t);
        }
        try {
            assertOneClearLine(line, typed);
        } catch (AssertionError e) {
            throw new AssertionError(call + ": " + e.getMessage(), t);
        }
    }

    /** Characters that reorder the rest of a line on a terminal (a right-to-left override, isolates, marks). */
    static final String BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";

    /** What a stack frame or a raw exception's text looks like. */
    static final Pattern RAW = Pattern.compile("\\bat [\\w.$]+\\(|\\w*Exception\\b|\\bjava\\.[a-z]+\\.");

    /**
     * One line a person can read: not blank, not huge, no control characters
     * (nor separators or bidirectional controls), no broken surrogate pair, no
     * stack frame or exception name (unless echoed from what was typed, as
     * typed or as {@link Quoted} shows it).
     */
    static void assertOneClearLine(String line, List<String> typed) {
        assertThat(line).isNotNull().isNotBlank();
        assertThat(line.length()).as("length of %s", line).isLessThanOrEqualTo(1000);
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            int type = Character.getType(c);
            if (Character.isISOControl(c) || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                    || BIDI_CONTROLS.indexOf(c) >= 0) {
                throw new AssertionError(String.format("control character U+%04X at %d in: %s", (int) c, i, line));
            }
            if (Character.isHighSurrogate(c) && (i + 1 == line.length() || !Character.isLowSurrogate(line.charAt(i + 1)))
                    || Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(line.charAt(i - 1)))) {
                throw new AssertionError(String.format("unpaired surrogate U+%04X at %d in: %s", (int) c, i, line));
            }
        }
        Matcher raw = RAW.matcher(line);
        while (raw.find()) {
            String found = raw.group();
            if (typed.stream().noneMatch(w -> w.contains(found) || Quoted.of(w, Integer.MAX_VALUE).contains(found))) {
                throw new AssertionError("a stack frame or raw exception, '" + found + "', in: " + line);
            }
        }
    }

    /** A result prints (its text, its line in a list, its JSON when asked for). */
    static void assertRenders(Object result) {
        String text = String.valueOf(result);
        if (result != null && !(result instanceof String)) {
            String line = Formats.line(result);
            assertThat(line).as("a format for %s", result.getClass()).isNotNull().doesNotContain("\n");
            assertThat(Formats.text(result)).isNotNull();
            if (result instanceof Json j) {
                JsonParser.parseString(Formats.text(j));
                assertThat(text).isEqualTo(Formats.text(j));
            }
        }
    }

    // ------------------------------------------------------------ decoding the input

    static String word(FuzzedDataProvider data) {
        int w = data.consumeInt(0, 63);
        if (w < OPTIONS.size()) {
            return OPTIONS.get(w);
        }
        if (w < OPTIONS.size() + WORDS.size()) {
            return WORDS.get(w - OPTIONS.size());
        }
        return data.consumeString(MAX_WORD);
    }

    static Object[] arguments(Method m, FuzzedDataProvider data) {
        Class<?>[] types = m.getParameterTypes();
        Object[] args = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            if (types[i] == CommandSession.class) {
                args[i] = null; // not inside a shell: relative paths are the process's
            } else if (types[i] == boolean.class) {
                args[i] = data.consumeBoolean();
            } else if (types[i] == String.class) {
                args[i] = word(data);
            } else if (types[i] == String[].class) {
                String[] words = new String[data.consumeInt(0, 4)];
                for (int w = 0; w < words.length; w++) {
                    words[w] = word(data);
                }
                args[i] = words;
            } else if (types[i] == DeviceArgument.class || types[i] == GuestArgument.class) {
                args[i] = CONVERTER.convert(types[i], word(data)); // as Gogo has the console's converter make it
            } else if (types[i] == DeviceArgument[].class) {
                DeviceArgument[] words = new DeviceArgument[data.consumeInt(0, 4)];
                for (int w = 0; w < words.length; w++) {
                    words[w] = (DeviceArgument) CONVERTER.convert(DeviceArgument.class, word(data));
                }
                args[i] = words;
            } else {
                throw new AssertionError(m + ": parameter type " + types[i] + " is not fuzzed yet");
            }
        }
        return args;
    }

    /** The words among a direct call's arguments. */
    static List<String> words(Object[] args) {
        List<String> out = new ArrayList<>();
        for (Object a : args) {
            if (a instanceof String s) {
                out.add(s);
            } else if (a instanceof String[] ss) {
                out.addAll(Arrays.asList(ss));
            } else if (a instanceof Argument<?> t) {
                out.add(t.typed);
            } else if (a instanceof Argument<?>[] ts) {
                Arrays.stream(ts).forEach(t -> out.add(t.typed));
            }
        }
        return out;
    }

    static Object invoke(IommuCommands cmd, Method m, Object[] args) throws Exception {
        try {
            return m.invoke(cmd, args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof InvocationTargetException || t instanceof UndeclaredThrowableException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static Map<String, List<Method>> commandMethods() {
        Map<String, List<Method>> out = new TreeMap<>();
        for (Method m : IommuCommands.class.getMethods()) {
            if (m.getDeclaringClass() == IommuCommands.class && !Modifier.isStatic(m.getModifiers())
                    && m.isAnnotationPresent(Descriptor.class)) {
                out.computeIfAbsent(m.getName(), k -> new ArrayList<>()).add(m);
            }
        }
        out.values().forEach(l -> l.sort(Comparator.comparingInt(Method::getParameterCount)
                .thenComparing(x -> Arrays.toString(x.getParameterTypes()))));
        return out;
    }

    /** Every command method is fuzzed: each has a usage entry, so a name the input can pick. */
    @Test
    void everyCommandMethodIsFuzzed() {
        assertThat(METHODS.keySet()).containsExactlyInAnyOrderElementsOf(NAMES);
        assertThat(METHODS.values().stream().mapToInt(List::size).sum()).isGreaterThanOrEqualTo(NAMES.size() + 5);
    }

    private static Path platformFile() {
        try {
            Path dir = Files.createTempDirectory("console-fuzz");
            Path f = Files.writeString(dir.resolve("extra.txt"), "iommu-platform 1\n");
            f.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------ the fakes and their state

    /** What a command may change: compared before and after. */
    record State(Map<String, Integer> owners, Map<String, Map<Integer, Integer>> dids, List<String> mapped,
            List<String> flushed, List<String> forgotten, String bound, String requested, String problem,
            Map<String, Object> config) {
    }

    /**
     * The commands on the fake two-unit platform of {@link FakeAssignment}, with
     * a flush service, two strategies, a discovery and a Configuration Admin
     * through which the fake core binds a strategy at once.
     */
    static final class Platform {
        // a group of two, so that attach and detach meet the refusal of a part of one and --group
        final FakeAssignment da = new FakeAssignment().bridgeGroup();
        final IommuCommands cmd = new IommuCommands();
        final List<String> flushed = new ArrayList<>();
        final List<String> forgotten = new ArrayList<>();
        Hashtable<String, Object> config;

        Platform() {
            cmd.assignment = da.api();
            cmd.domainIdMap = da.map();
            cmd.flushService = Fakes.proxy(FlushService.class, new Flush());
            cmd.unitServices = List.of(da.unit("dmar0"), da.unit("dmar1"));
            cmd.strategyServices = () -> List.of(
                    new IommuCommands.StrategyService("global", "iommu.alloc.global", 0, Fakes.strategy("global")),
                    new IommuCommands.StrategyService("per-unit", "iommu.alloc.perunit", 0, Fakes.strategy("per-unit")));
            cmd.discoveryServices = () -> List.of(da.discovery(forgotten));
            cmd.configAdmin = configAdmin();
            PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
            cmd.err = () -> sink;
        }

        State state() {
            Map<String, Integer> owners = new TreeMap<>();
            da.owner.forEach((a, g) -> owners.put(a.toString(), g));
            Map<String, Map<Integer, Integer>> dids = new TreeMap<>();
            da.didOf.forEach((u, m) -> dids.put(u, new TreeMap<>(m)));
            return new State(owners, dids, List.copyOf(da.mapped), List.copyOf(flushed), List.copyOf(forgotten),
                    da.bound, da.requested, da.problem, config == null ? null : new TreeMap<>(config));
        }

        public class Flush {
            public FlushReportDTO flushGuest(GuestId guest) {
                return report(guest, "domain " + guest, null, null);
            }

            public FlushReportDTO flushPages(GuestId guest, long iova, long pages) {
                return report(guest, "pages " + guest + " " + iova + " " + pages, iova, pages);
            }

            private FlushReportDTO report(GuestId guest, String what, Long iova, Long pages) {
                flushed.add(what);
                return da.flushReport(guest, iova == null ? "domain" : "pages", iova, pages);
            }
        }

        /** iommu.core's configuration: the fake core binds a registered strategy as soon as it is written. */
        ConfigurationAdmin configAdmin() {
            Configuration configuration = (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "getProperties" -> config == null ? null : new Hashtable<>(config);
                        case "update" -> {
                            @SuppressWarnings("unchecked")
                            Dictionary<String, Object> props = (Dictionary<String, Object>) args[0];
                            config = new Hashtable<>();
                            for (var keys = props.keys(); keys.hasMoreElements();) {
                                String k = keys.nextElement();
                                config.put(k, props.get(k));
                            }
                            Object s = config.get(iommu.api.CoreConfiguration.STRATEGY);
                            String name = s == null ? "per-unit" : s.toString();
                            da.requested = name;
                            if (name.equals("global") || name.equals("per-unit")) {
                                da.bound = name;
                                da.problem = null;
                            } else {
                                da.problem = "strategy '" + name + "' is not registered";
                            }
                            yield null;
                        }
                        case "getPid" -> iommu.api.CoreConfiguration.PID;
                        case "toString" -> "fake configuration " + iommu.api.CoreConfiguration.PID;
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
            return (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "getConfiguration" -> configuration;
                        case "toString" -> "fake ConfigurationAdmin";
                        case "listConfigurations" -> config == null ? null : new Configuration[] {configuration};
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }
    }
}
