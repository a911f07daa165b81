package dev.ingot.imagetest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The effective global sshd configuration of a tree, as sshd reads it (sshd_config(5)): {@code /etc/ssh/sshd_config}
 * with each {@code Include} expanded in place (globs sorted, relative paths under /etc/ssh), keywords case-insensitive,
 * and for each keyword the first value obtained wins. Lines after a {@code Match} apply only to some connections;
 * they are kept apart so a check can name a weakening inside one.
 */
public record SshdConfig(Map<String, Setting> global, List<Setting> conditional) {
    public static final String MAIN = "/etc/ssh/sshd_config";
    private static final int MAXIMUM_DEPTH = 16;

    /** One keyword line and where it is. */
    public record Setting(String keyword, String value, String file, int line) {
        public String where() {
            return file + " line " + line;
        }
    }

    /** Keywords that are one option under two names (ChallengeResponseAuthentication is KbdInteractiveAuthentication's old name). */
    private static String canonical(String keyword) {
        String lower = keyword.toLowerCase(Locale.ROOT);
        return lower.equals("challengeresponseauthentication") ? "kbdinteractiveauthentication" : lower;
    }

    public Optional<Setting> get(String keyword) {
        return Optional.ofNullable(global.get(canonical(keyword)));
    }

    public static Optional<SshdConfig> read(ImageTree tree) {
        if (tree.read(MAIN).isEmpty()) {
            return Optional.empty();
        }
        Map<String, Setting> global = new LinkedHashMap<>();
        List<Setting> conditional = new ArrayList<>();
        read(tree, MAIN, global, conditional, new boolean[] {false}, 0);
        return Optional.of(new SshdConfig(global, conditional));
    }

    private static void read(ImageTree tree, String file, Map<String, Setting> global, List<Setting> conditional, boolean[] inMatch,
            int depth) {
        Optional<String> text = tree.read(file);
        if (text.isEmpty() || depth > MAXIMUM_DEPTH) {
            return;
        }
        List<String> lines = text.get().lines().toList();
        for (int index = 0; index < lines.size(); index++) {
            String line = lines.get(index).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("[\\s=]+", 2);
            String keyword = parts[0];
            String value = parts.length > 1 ? parts[1].strip() : "";
            if (keyword.equalsIgnoreCase("Include")) {
                for (String pattern : value.split("\\s+")) {
                    for (String included : expand(tree, pattern.startsWith("/") ? pattern : "/etc/ssh/" + pattern)) {
                        read(tree, included, global, conditional, inMatch, depth + 1);
                    }
                }
            } else if (keyword.equalsIgnoreCase("Match")) {
                inMatch[0] = true;
            } else {
                Setting setting = new Setting(keyword, value, file, index + 1);
                if (inMatch[0]) {
                    conditional.add(setting);
                } else {
                    global.putIfAbsent(canonical(keyword), setting);
                }
            }
        }
    }

    /** A path whose last component may hold {@code *} and {@code ?} (glob(7)), matched against the folder, sorted. */
    private static List<String> expand(ImageTree tree, String pattern) {
        int slash = pattern.lastIndexOf('/');
        String folder = slash == 0 ? "/" : pattern.substring(0, slash);
        String name = pattern.substring(slash + 1);
        if (!name.contains("*") && !name.contains("?")) {
            return List.of(pattern);
        }
        String regex = ("\\Q" + name + "\\E").replace("*", "\\E[^/]*\\Q").replace("?", "\\E[^/]\\Q");
        return tree.list(folder).stream().filter(entry -> entry.matches(regex) && !entry.startsWith("."))
                .map(entry -> folder + "/" + entry).toList();
    }
}
