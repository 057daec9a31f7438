package iommu.console;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * The launcher without a shell: runs the commands of {@code -c}, of a script
 * file or of standard input one after the other, prints each result (JSON as
 * UTF-8), and stops at the first failure with its problems (if it carries
 * any, {@link ProblemsException}) on stdout and its one line on stderr.
 */
final class CommandRunner {

    private CommandRunner() {
    }

    /** Where the commands come from: yields the next command, or null at the end. */
    private interface Source {
        Script.Command next() throws IOException;
    }

    static int run(CommandProcessor cp, LaunchOptions options, PrintStream out, PrintStream err)
            throws IOException {
        Source source;
        InputStream sessionIn;
        BufferedReader toClose = null;
        if (!options.commands().isEmpty()) {
            List<Script.Command> all = new ArrayList<>();
            try {
                for (String c : options.commands()) {
                    all.addAll(Script.ofCommandLine(c));
                }
            } catch (IllegalArgumentException e) {
                err.println(e.getMessage());
                return LauncherMain.FAILED;
            }
            source = iterate(all);
            sessionIn = new FileInputStream(FileDescriptor.in);
        } else if (options.script().isPresent()) {
            Path script = options.script().get();
            BufferedReader r = Files.newBufferedReader(script, StandardCharsets.UTF_8);
            toClose = r;
            source = lines(r, script.toString());
            sessionIn = new FileInputStream(FileDescriptor.in);
        } else {
            BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in),
                    Charset.defaultCharset()));
            source = lines(r, "stdin");
            // the commands' own standard input is empty: stdin holds the commands
            sessionIn = InputStream.nullInputStream();
        }

        CommandSession session = cp.createSession(sessionIn, out, err);
        try {
            session.put("SCOPE", "iommu:gogo:*"); // as the shell profile: 'units' is iommu:units
            while (true) {
                Script.Command cmd;
                try {
                    cmd = source.next();
                } catch (IllegalArgumentException e) {
                    err.println(e.getMessage());
                    return LauncherMain.FAILED;
                }
                if (cmd == null) {
                    return LauncherMain.OK;
                }
                try {
                    Object result = session.execute(cmd.text());
                    print(session, out, result);
                } catch (Exception | LinkageError e) {
                    ProblemsException.of(e).forEach(out::println);
                    out.flush();
                    err.println(cmd.where() + Errors.message(e));
                    if (options.debug()) {
                        e.printStackTrace(err);
                    }
                    return LauncherMain.FAILED;
                }
            }
        } finally {
            session.close();
            if (toClose != null) {
                toClose.close();
            }
            out.flush();
        }
    }

    private static Source iterate(List<Script.Command> commands) {
        var it = commands.iterator();
        return () -> it.hasNext() ? it.next() : null;
    }

    /** Reads one line at a time, so piped commands run as they arrive. */
    private static Source lines(BufferedReader reader, String name) {
        List<Script.Command> pending = new ArrayList<>();
        int[] lineNo = {0};
        return () -> {
            while (pending.isEmpty()) {
                String line = reader.readLine();
                if (line == null) {
                    return null;
                }
                lineNo[0]++;
                pending.addAll(Script.ofLine(line, name, lineNo[0]));
            }
            return pending.remove(0);
        };
    }

    static void print(CommandSession session, PrintStream out, Object result) {
        if (result == null) {
            return;
        }
        if (result instanceof Json j) {
            // JSON is UTF-8 whatever the default charset: its bytes go to the stream as they are
            byte[] utf8 = j.text().getBytes(StandardCharsets.UTF_8);
            out.write(utf8, 0, utf8.length);
            out.println();
            out.flush();
            return;
        }
        CharSequence text = result instanceof CharSequence cs ? cs : session.format(result, Converter.INSPECT);
        if (text == null) {
            return;
        }
        String s = text.toString();
        out.print(s);
        if (!s.endsWith("\n")) {
            out.println();
        }
        out.flush();
    }
}
