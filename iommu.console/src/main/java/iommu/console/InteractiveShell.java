package iommu.console;

import org.apache.felix.gogo.jline.Shell;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Function;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The interactive Gogo shell on the process's terminal, run on the launcher's
 * main thread as the gogo.jline bundle's activator would run it on a thread
 * of its own (that one is told {@code gosh.args=--nointeractive} by the run
 * properties, so it does not read standard input).
 *
 * <p>The only class of this bundle that touches JLine and gogo.jline.
 */
final class InteractiveShell {

    private InteractiveShell() {
    }

    /**
     * Runs the shell until the user leaves it ({@code exit}, Ctrl-D).
     *
     * <p>The Shell instance is the one gogo.jline registered; {@code exit}
     * stops it for good, which is fine: its own session ended at start-up
     * and the framework stops when this returns.
     *
     * @param shell the gogo.jline {@code Shell} service (the {@code gogo:gosh} command)
     * @return the exit code, 0
     */
    static int run(Object shell, CommandProcessor processor, String banner) throws Exception {
        if (!(shell instanceof Shell gosh)) {
            throw new IllegalStateException("the gogo:gosh command is not the Gogo JLine shell: "
                    + (shell == null ? "absent" : shell.getClass().getName()));
        }
        Terminal terminal = TerminalBuilder.builder()
                .name("iommu")
                .system(true)
                .nativeSignals(true)
                .signalHandler(Terminal.SignalHandler.SIG_IGN)
                .build();
        try {
            CommandSession session = processor.createSession(terminal.input(), terminal.output(), terminal.output());
            try {
                session.put(".terminal", terminal);
                session.put(".gosh_quiet", Boolean.TRUE); // in case Felix's own profile is read: no welcome text
                // 'exit' leaves the shell after the current line, so the launcher
                // stops the framework cleanly (System.exit would skip that)
                session.put("exit", (Function) (s, args) -> {
                    gosh.stop();
                    return null;
                });
                terminal.writer().println(banner);
                terminal.writer().flush();
                // Called directly, not through session.execute: the shell waits
                // for each command's job, and it must not itself run as one.
                // --login: this session, with the profile; --noshutdown: leaving
                // the shell returns here, and the launcher stops the framework.
                gosh.gosh(session, new String[] {"--login", "--noshutdown"});
            } finally {
                session.close();
            }
        } finally {
            terminal.writer().flush();
            terminal.close();
        }
        return 0;
    }
}
