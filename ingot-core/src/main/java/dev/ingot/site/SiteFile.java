package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * One file that provisioning owns: where it goes (an absolute path on the device), what it holds (empty: the
 * file must not exist), its mode, and how its lines may be shown. Secrets are written, never shown: a diff shows
 * lines through {@link #showNew} and {@link #showOld}, which mask them.
 */
public record SiteFile(String path, Optional<String> content, int mode, UnaryOperator<String> showNew,
        UnaryOperator<String> showOld) {

    public static final int PUBLIC = 0644;
    public static final int PRIVATE = 0600;

    public SiteFile {
        requireNonNull(path, "path");
        requireNonNull(content, "content");
        requireNonNull(showNew, "showNew");
        requireNonNull(showOld, "showOld");
        if (!path.startsWith("/") || path.contains("/../") || path.contains("/./")) {
            throw new IllegalArgumentException("a site file's path is absolute and normalized: " + path);
        }
    }

    /** A file with nothing secret in it: shown as it is. */
    public static SiteFile plain(String path, String content) {
        return new SiteFile(path, Optional.of(content), PUBLIC, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /** A public file that exists only while the site has its content (a certificate: public, not secret). */
    public static SiteFile optional(String path, Optional<String> content) {
        return new SiteFile(path, content, PUBLIC, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /** A file that is secret as a whole (mode 0600): every line but comments is masked, old and new. */
    public static SiteFile secret(String path, Optional<String> content) {
        return new SiteFile(path, content, PRIVATE, SiteFile::maskLine, SiteFile::maskLine);
    }

    /**
     * A {@code NAME=value} file (mode 0600) where some values are secret. New lines show through {@code masked}
     * (the file rendered with secrets masked, line for line). An old line shows only when its name is never
     * secret or the very line is also in the new file and not secret; otherwise its value is masked, since an old
     * value may be a secret whose name is plain now or gone.
     */
    public static SiteFile environment(String path, String content, String masked, Set<String> neverSecret) {
        String[] lines = content.split("\n", -1);
        String[] maskedLines = masked.split("\n", -1);
        Map<String, String> shownByLine = new HashMap<>();
        for (int i = 0; i < lines.length; i++) {
            shownByLine.put(lines[i], maskedLines[i]);
        }
        UnaryOperator<String> showNew = line -> shownByLine.getOrDefault(line, maskValue(line, neverSecret));
        UnaryOperator<String> showOld = line -> {
            String shown = shownByLine.get(line);
            return shown != null ? shown : maskValue(line, neverSecret);
        };
        return new SiteFile(path, Optional.of(content), PRIVATE, showNew, showOld);
    }

    private static String maskValue(String line, Set<String> neverSecret) {
        int equals = line.indexOf('=');
        if (line.isBlank() || line.startsWith("#") || equals < 0) {
            return line.startsWith("#") || line.isBlank() ? line : Secret.MASK;
        }
        String name = line.substring(0, equals);
        return neverSecret.contains(name) ? line : name + "=" + Secret.MASK;
    }

    private static String maskLine(String line) {
        return line.isEmpty() || line.startsWith("#") ? line : Secret.MASK;
    }

    /** Whether the file should exist after provisioning. */
    public boolean present() {
        return content.isPresent();
    }

    @Override
    public String toString() {
        return path + " (" + (content.isPresent() ? "mode " + Integer.toOctalString(mode) : "absent") + ")";
    }
}
