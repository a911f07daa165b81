package dev.ingot.cli;

import dev.ingot.progress.Progress;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** A one-line progress bar on stderr, redrawn at most ten times a second; only on a terminal and never with --json. */
final class TerminalProgress implements Progress {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final AtomicLong done = new AtomicLong();
    private volatile String phase = "";
    private volatile long total = -1;
    private volatile long started;
    private volatile long lastDraw;

    private TerminalProgress(PrintWriter err) {
        this.err = err;
    }

    static Progress forContext(CliContext context, boolean json) {
        return context.interactive() && !json ? new TerminalProgress(context.err()) : Progress.NONE;
    }

    @Override
    public void start(String newPhase, long totalUnits) {
        phase = newPhase;
        total = totalUnits;
        done.set(0);
        started = System.nanoTime();
        lastDraw = 0;
        draw(true);
    }

    @Override
    public void advance(long units) {
        done.addAndGet(units);
        draw(false);
    }

    @Override
    public void done() {
        draw(true);
        synchronized (err) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        long current = done.get();
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        String rate = Sizes.bytes((long) (current / seconds)) + "/s";
        String line;
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * current / total);
            line = String.format(Locale.ROOT, "%s [%s%s] %3d%% %s", phase, "#".repeat(filled), ".".repeat(WIDTH - filled),
                    Math.min(100, 100 * current / total), rate);
        } else {
            line = phase + " " + Sizes.bytes(current) + " " + rate;
        }
        synchronized (err) {
            err.print("\r\033[K" + line);
            err.flush();
        }
    }
}
