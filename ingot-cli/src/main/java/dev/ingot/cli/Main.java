package dev.ingot.cli;

import java.io.PrintWriter;

/** The {@code ingot} command's entry point. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int exitCode = Ingot.newCommandLine(CliContext.system(out, err)).execute(args);
        out.flush();
        err.flush();
        System.exit(exitCode);
    }
}
