package iommu.console;

import java.lang.reflect.Method;
import java.net.URL;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.felix.gogo.jline.Expander;
import org.apache.felix.gogo.jline.Highlighter;
import org.apache.felix.gogo.jline.ParsedLineImpl;
import org.apache.felix.gogo.jline.Parser;
import org.apache.felix.gogo.jline.Shell;
import org.apache.felix.gogo.runtime.CommandSessionImpl;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Function;
import org.apache.felix.service.command.Job;
import org.apache.felix.service.command.Parameter;
import org.jline.builtins.Completers;
import org.jline.builtins.Completers.CompletionData;
import org.jline.reader.Candidate;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;

import iommu.api.DeviceAssignment;

/**
 * The interactive shell on the process's terminal, run on the launcher's main
 * thread: a Gogo session read through JLine, as gogo.jline's {@code gosh}
 * reads one (its parser, highlighter, expander, history, the shell profile,
 * {@code complete}), with two differences that make it this platform's:
 * <ul>
 * <li>a failure prints as one line in the console's error style
 * ({@link Errors}), as in non-interactive runs, never as
 * {@code java.lang.IllegalArgumentException: ...};</li>
 * <li>TAB completes the {@code iommu} commands' arguments from the platform
 * as it is now: unit ids, BDFs, guest ids and strategy names
 * ({@link IommuCommands#candidates}); command names and options come from
 * Gogo's completer, the options and descriptions from the commands'
 * {@code @Descriptor}/{@code @Parameter} annotations.</li>
 * </ul>
 *
 * <p>The only class of this bundle, with {@link ShellCompleter}, that touches
 * JLine and gogo.jline.
 */
final class InteractiveShell {

    private InteractiveShell() {
    }

    /**
     * Runs the shell until the user leaves it ({@code exit}, Ctrl-D).
     *
     * @return the exit code, 0
     */
    static int run(CommandProcessor processor, String banner, IommuCommands commands, boolean debug) throws Exception {
        Terminal terminal = systemTerminal();
        try {
            CommandSession session = processor.createSession(terminal.input(), terminal.output(), terminal.output());
            try {
                loop(processor, session, terminal, banner, commands, debug);
            } finally {
                session.close();
            }
        } finally {
            terminal.writer().flush();
            terminal.close();
        }
        return 0;
    }

    /**
     * The process's terminal. JLine finds its terminal providers (exec, FFM,
     * ...) through the thread's context class loader, which on the launcher's
     * main thread does not see the JLine bundle: without this it silently
     * falls back to a dumb terminal, which has no line editing and no TAB
     * completion.
     */
    static Terminal systemTerminal() throws java.io.IOException {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(TerminalBuilder.class.getClassLoader());
        try {
            return TerminalBuilder.builder()
                    .name("iommu")
                    .system(true)
                    .nativeSignals(true)
                    .signalHandler(Terminal.SignalHandler.SIG_IGN)
                    .build();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static void loop(CommandProcessor processor, CommandSession session, Terminal terminal, String banner,
            IommuCommands commands, boolean debug) throws Exception {
        AtomicBoolean stopping = new AtomicBoolean();
        session.put(".terminal", terminal);
        session.put(".processor", processor);
        session.put(".session", session);
        session.put(".gosh_quiet", Boolean.TRUE);
        session.put("#TERM", (Function) (s, a) -> terminal.getType());
        session.put("#COLUMNS", (Function) (s, a) -> terminal.getWidth());
        session.put("#LINES", (Function) (s, a) -> terminal.getHeight());
        session.put("#PWD", (Function) (s, a) -> s.currentDir().toString());
        // 'exit' leaves the shell after the current line; the launcher then stops the framework
        session.put("exit", (Function) (s, a) -> {
            stopping.set(true);
            return null;
        });
        session.put(LineReader.HISTORY_FILE, Paths.get(System.getProperty("user.home"), ".iommu_history"));

        Map<String, List<CompletionData>> completions = new HashMap<>();
        session.put(Shell.VAR_COMPLETIONS, completions);
        Completers.CompletionEnvironment environment = new Completers.CompletionEnvironment() {
            @Override
            public Map<String, List<CompletionData>> getCompletions() {
                return Shell.getCompletions(session);
            }

            @Override
            public Set<String> getCommands() {
                return Shell.getCommands(session);
            }

            @Override
            public String resolveCommand(String command) {
                return Shell.resolve(session, command);
            }

            @Override
            public String commandName(String command) {
                int idx = command.indexOf(':');
                return idx >= 0 ? command.substring(idx + 1) : command;
            }

            @Override
            public Object evaluate(LineReader reader, ParsedLine line, String func) throws Exception {
                session.put(Shell.VAR_COMMAND_LINE, line);
                return session.execute(func);
            }
        };
        LineReader reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("iommu")
                .variables(((CommandSessionImpl) session).getVariables())
                .completer(new ShellCompleter(new Completers.Completer(environment), commands, session))
                .highlighter(new Highlighter(session))
                .parser(new Parser())
                .expander(new Expander(session))
                .build();
        reader.setOpt(LineReader.Option.AUTO_FRESH_LINE);
        session.put(Shell.VAR_READER, reader);
        completions.putAll(annotationCompletions(IommuCommands.class, "iommu"));

        terminal.writer().println(banner);
        terminal.writer().flush();
        sourceProfile(session, terminal, debug);

        Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, s -> {
            Job job = session.foregroundJob();
            if (job != null) {
                job.interrupt();
            }
        });
        try {
            while (!stopping.get()) {
                try {
                    reader.readLine(Shell.getPrompt(session), Shell.getRPrompt(session), (Character) null, null);
                } catch (UserInterruptException e) {
                    continue; // Ctrl-C at the prompt: a fresh line
                } catch (EndOfFileException e) {
                    break; // Ctrl-D
                }
                ParsedLine line = reader.getParsedLine();
                if (line == null) {
                    break;
                }
                try {
                    Object result = session.execute(((ParsedLineImpl) line).program());
                    session.put("_", result);
                    if (result != null) {
                        CharSequence text = session.format(result, Converter.INSPECT);
                        terminal.writer().println(text);
                    }
                } catch (Exception e) {
                    session.put("exception", e);
                    ProblemsException.of(e).forEach(terminal.writer()::println);
                    printError(terminal, e, debug);
                }
                terminal.writer().flush();
                waitForJobs(session);
            }
        } finally {
            terminal.handle(Terminal.Signal.INT, previous);
            try {
                reader.getHistory().save();
            } catch (Exception e) {
                // history is a nicety
            }
        }
    }

    private static void printError(Terminal terminal, Throwable e, boolean debug) {
        AttributedStringBuilder sb = new AttributedStringBuilder();
        sb.style(AttributedStyle.DEFAULT.foreground(AttributedStyle.RED));
        sb.append(Errors.message(e));
        sb.style(AttributedStyle.DEFAULT);
        terminal.writer().println(sb.toAnsi(terminal));
        if (debug) {
            e.printStackTrace(terminal.writer());
        }
        terminal.writer().flush();
    }

    private static void waitForJobs(CommandSession session) throws InterruptedException {
        while (true) {
            Job job = session.foregroundJob();
            if (job == null) {
                return;
            }
            synchronized (job) {
                if (job.status() == Job.Status.Foreground) {
                    job.wait(200);
                }
            }
        }
    }

    /**
     * The shell profile of the Gogo JLine bundle ({@code /ext/gosh_profile},
     * which the iommu.app fragment provides), as gosh reads it at login.
     */
    private static void sourceProfile(CommandSession session, Terminal terminal, boolean debug) {
        URL url = Shell.class.getResource("/ext/gosh_profile");
        if (url == null) {
            url = Shell.class.getResource("/gosh_profile");
        }
        if (url == null) {
            return;
        }
        try {
            session.execute(Shell.readScript(url.toURI()));
        } catch (Exception e) {
            printError(terminal, new IllegalStateException("the shell profile " + url + " failed: " + Errors.message(e), e),
                    debug);
        }
    }

    /**
     * What gogo.jline's {@code complete} builtin would record for each command
     * of the class, taken from its annotations so that help and completion say
     * the same: the command's description, and each option with its own.
     */
    static Map<String, List<CompletionData>> annotationCompletions(Class<?> commands, String scope) {
        Map<String, List<CompletionData>> out = new HashMap<>();
        Map<String, Set<String>> seen = new HashMap<>();
        for (Method m : commands.getMethods()) {
            if (!CommandList.USAGE.containsKey(m.getName())) {
                continue;
            }
            String key = scope + ":" + m.getName();
            List<CompletionData> data = out.computeIfAbsent(key, k -> new ArrayList<>());
            Set<String> done = seen.computeIfAbsent(key, k -> new LinkedHashSet<>());
            Descriptor d = m.getAnnotation(Descriptor.class);
            if (d != null && done.add("")) {
                data.add(new CompletionData(null, firstSentence(d.value()), null, null));
            }
            for (java.lang.annotation.Annotation[] annotations : m.getParameterAnnotations()) {
                Parameter p = null;
                Descriptor pd = null;
                for (java.lang.annotation.Annotation a : annotations) {
                    if (a instanceof Parameter x) {
                        p = x;
                    } else if (a instanceof Descriptor x) {
                        pd = x;
                    }
                }
                if (p != null && done.add(p.names()[0])) {
                    data.add(new CompletionData(List.of(p.names()), pd == null ? null : firstSentence(pd.value()), null,
                            null));
                }
            }
        }
        return out;
    }

    private static String firstSentence(String s) {
        int semi = s.indexOf(';');
        int dot = s.indexOf(". ");
        int end = s.length();
        if (semi > 0) {
            end = Math.min(end, semi);
        }
        if (dot > 0) {
            end = Math.min(end, dot);
        }
        return s.substring(0, end);
    }

    /** Gogo's completer, plus the {@code iommu} commands' arguments from the platform as it is now. */
    static final class ShellCompleter implements org.jline.reader.Completer {
        private final org.jline.reader.Completer gogo;
        private final IommuCommands commands;
        private final CommandSession session;
        private final Completers.FilesCompleter files;

        ShellCompleter(org.jline.reader.Completer gogo, IommuCommands commands, CommandSession session) {
            this.gogo = gogo;
            this.commands = commands;
            this.session = session;
            this.files = new Completers.FilesCompleter(() -> session.currentDir());
        }

        @Override
        public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
            gogo.complete(reader, line, candidates);
            if (line.wordIndex() <= 0 || commands == null || line.word().startsWith("-")) {
                return;
            }
            String resolved = Shell.resolve(session, line.words().get(0));
            if (!resolved.startsWith("iommu:")) {
                return;
            }
            String function = resolved.substring("iommu:".length());
            if (function.equals("discover")) {
                files.complete(reader, line, candidates);
                return;
            }
            List<String> typed = line.words().subList(1, line.wordIndex());
            for (Completion.Candidate c : commands.candidates(function, typed)) {
                candidates.add(new Candidate(c.value(), c.value(), null, c.description(), null, null, true));
            }
        }
    }

    /** The banner the shell opens with: the platform, its units and devices, the strategy and the state. */
    static String banner(DeviceAssignment da, String platform) {
        int units = da.units().size();
        int devices = da.devices().size();
        String strategy = da.strategy().orElse("none bound");
        String state;
        try {
            String dir = da.state() == null ? null : da.state().directory;
            state = dir == null ? "ephemeral (no --state): nothing is kept after exit"
                    : "kept in " + dir + " (" + da.state().restored + " attachments restored"
                            + (da.state().problems.isEmpty() ? "" : ", " + da.state().problems.size() + " disagreements") + ")";
        } catch (RuntimeException | LinkageError e) {
            state = "ephemeral (no --state): nothing is kept after exit";
        }
        return String.join("\n",
                "IOMMU domain-id platform",
                "  platform: " + platform,
                "  units:    " + units + (units == 1 ? " unit, " : " units, ") + devices + (devices == 1 ? " device" : " devices"),
                "  strategy: " + strategy,
                "  state:    " + state,
                "Type 'help' for the commands, 'help attach' for one; TAB completes commands, unit ids, BDFs,",
                "guest ids and strategy names; 'exit' or Ctrl-D leaves.");
    }
}
