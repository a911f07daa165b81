package dev.ingot.cli;

import java.util.Locale;

/** Human sizes in binary units, as bmaptool and dd print them. */
final class Sizes {
    private Sizes() {}

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    static String seconds(java.time.Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
    }

    static String rate(long bytes, java.time.Duration duration) {
        double seconds = Math.max(0.001, duration.toMillis() / 1000.0);
        return bytes((long) (bytes / seconds)) + "/s";
    }
}
