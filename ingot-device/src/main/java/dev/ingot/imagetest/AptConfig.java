package dev.ingot.imagetest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The apt configuration of a tree, enough of apt.conf(5) for unattended-upgrades' settings: the files of
 * {@code /etc/apt/apt.conf.d} in name order (later files win), {@code Name "value";} assignments and
 * {@code Name { … };} scopes and lists, {@code //} and C comments, and {@code #clear Name;}. Names are case-insensitive.
 */
public record AptConfig(Map<String, Value> scalars, Map<String, List<Value>> lists) {
    public static final String FOLDER = "/etc/apt/apt.conf.d";

    /** A value and the file that set it. */
    public record Value(String text, String file) {}

    public static AptConfig read(ImageTree tree) {
        AptConfig config = new AptConfig(new LinkedHashMap<>(), new LinkedHashMap<>());
        tree.read("/etc/apt/apt.conf").ifPresent(text -> config.parse(text, "/etc/apt/apt.conf"));
        for (String name : tree.list(FOLDER)) {
            // apt ignores names with characters other than letters, digits, _ - . and those with another extension.
            if (name.matches("[A-Za-z0-9_.-]+") && (!name.contains(".") || name.endsWith(".conf"))) {
                String file = FOLDER + "/" + name;
                tree.read(file).ifPresent(text -> config.parse(text, file));
            }
        }
        return config;
    }

    public List<Value> list(String name) {
        return lists.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    public java.util.Optional<Value> scalar(String name) {
        return java.util.Optional.ofNullable(scalars.get(name.toLowerCase(Locale.ROOT)));
    }

    private void parse(String text, String file) {
        List<String> tokens = tokens(text);
        List<String> scope = new ArrayList<>();
        String pendingName = null;
        for (int index = 0; index < tokens.size(); index++) {
            String token = tokens.get(index);
            if (token.startsWith("#clear ")) {
                String name = token.substring(7).strip().toLowerCase(Locale.ROOT);
                lists.keySet().removeIf(key -> key.equals(name) || key.startsWith(name + "::"));
                scalars.keySet().removeIf(key -> key.equals(name) || key.startsWith(name + "::"));
            } else if (token.equals("{")) {
                scope.add(pendingName == null ? "" : pendingName);
                pendingName = null;
            } else if (token.equals("}")) {
                if (!scope.isEmpty()) {
                    scope.removeLast();
                }
                pendingName = null;
            } else if (token.equals(";")) {
                pendingName = null;
            } else if (token.startsWith("\"")) {
                String value = token.substring(1, token.length() - 1);
                if (pendingName != null) {
                    scalars.put(qualified(scope, pendingName), new Value(value, file));
                    pendingName = null;
                } else {
                    lists.computeIfAbsent(qualified(scope, null), key -> new ArrayList<>()).add(new Value(value, file));
                }
            } else {
                pendingName = token;
            }
        }
    }

    private static String qualified(List<String> scope, String name) {
        List<String> parts = new ArrayList<>(scope.stream().filter(part -> !part.isEmpty()).toList());
        if (name != null) {
            parts.add(name);
        }
        return String.join("::", parts).toLowerCase(Locale.ROOT);
    }

    private static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        int index = 0;
        while (index < text.length()) {
            char c = text.charAt(index);
            if (Character.isWhitespace(c)) {
                index++;
            } else if (text.startsWith("//", index)) {
                index = endOfLine(text, index);
            } else if (text.startsWith("/*", index)) {
                int end = text.indexOf("*/", index + 2);
                index = end < 0 ? text.length() : end + 2;
            } else if (c == '#') {
                int end = endOfLine(text, index);
                String directive = text.substring(index, end).strip();
                if (directive.startsWith("#clear ")) {
                    tokens.add(directive.endsWith(";") ? directive.substring(0, directive.length() - 1) : directive);
                }
                index = end;
            } else if (c == '"') {
                int end = text.indexOf('"', index + 1);
                end = end < 0 ? text.length() - 1 : end;
                tokens.add(text.substring(index, end + 1));
                index = end + 1;
            } else if (c == '{' || c == '}' || c == ';') {
                tokens.add(String.valueOf(c));
                index++;
            } else {
                int start = index;
                while (index < text.length() && !Character.isWhitespace(text.charAt(index)) && "{};\"".indexOf(text.charAt(index)) < 0
                        && !text.startsWith("//", index)) {
                    index++;
                }
                tokens.add(text.substring(start, index));
            }
        }
        return tokens;
    }

    private static int endOfLine(String text, int from) {
        int end = text.indexOf('\n', from);
        return end < 0 ? text.length() : end;
    }
}
