package dev.ingot.health;

import dev.ingot.health.HealthReport.MemoryInfo;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the report reads from {@code /proc} (proc(5)): uptime and memory. */
public final class ProcFiles {
    public static final String UPTIME = "/proc/uptime";
    public static final String MEMINFO = "/proc/meminfo";
    public static final String HOSTNAME = "/proc/sys/kernel/hostname";
    private static final Pattern MEMINFO_LINE = Pattern.compile("(?m)^(MemTotal|MemAvailable):\\s+([0-9]+) kB$");

    private ProcFiles() {}

    /** {@code /proc/uptime}: seconds since boot, then idle seconds summed over CPUs. */
    public static Probed<Duration> uptime(String text) {
        String[] fields = text.strip().split("\\s+");
        try {
            double seconds = Double.parseDouble(fields[0]);
            if (!Double.isFinite(seconds) || seconds < 0) {
                throw new NumberFormatException();
            }
            return Probed.found(Duration.ofMillis((long) (seconds * 1000)));
        } catch (NumberFormatException e) {
            return Probed.failed(UPTIME + " does not start with a number of seconds: '" + Excerpt.of(text) + "'");
        }
    }

    /** MemTotal and MemAvailable (kernel 3.14+; the kernel's estimate of memory available without swapping). */
    public static Probed<MemoryInfo> memory(String text) {
        long total = -1;
        long available = -1;
        Matcher matcher = MEMINFO_LINE.matcher(text);
        while (matcher.find()) {
            long bytes = Long.parseLong(matcher.group(2)) * 1024;
            if (matcher.group(1).equals("MemTotal")) {
                total = bytes;
            } else {
                available = bytes;
            }
        }
        if (total < 0 || available < 0) {
            return Probed.failed(MEMINFO + " lacks MemTotal or MemAvailable");
        }
        return Probed.found(new MemoryInfo(total, available));
    }
}
