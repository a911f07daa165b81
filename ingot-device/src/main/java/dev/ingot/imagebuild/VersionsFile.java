package dev.ingot.imagebuild;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code packer/versions.pkrvars.hcl}: every pinned version of the golden image, as HCL2 attribute lines
 * {@code name = "value"} (Packer's variable definitions file), with comments and blank lines between them.
 * Parsing and {@link #with bumping} keep every other byte as it is, so a bump is a diff of the changed lines only.
 */
public final class VersionsFile {
    public static final String DEFAULT_PATH = "packer/versions.pkrvars.hcl";

    private static final Pattern ASSIGNMENT = Pattern.compile("^(\\s*)([a-z0-9_]+)(\\s*=\\s*)\"([^\"\\\\]*)\"(\\s*(?:#.*|//.*)?)$");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** deb-version(7): [epoch:]upstream[-revision], starting with a digit. */
    private static final Pattern DEBIAN_VERSION = Pattern.compile("([0-9]+:)?[0-9][A-Za-z0-9.+~-]*");
    /** A JDK version string (java.lang.Runtime.Version): 25, 25.0.1, 25.0.1+8. */
    private static final Pattern JAVA_VERSION = Pattern.compile("[1-9][0-9]*(\\.[0-9]+)*(\\+[0-9]+)?");
    private static final Pattern HTTPS_URL = Pattern.compile("https?://[^\\s\"]+\\.iso");

    /** The pinned values, their variable names, their {@code ingot image bump} options and the packages they pin. */
    public enum Key {
        ISO_URL("iso_url", "--iso-url", List.of()),
        ISO_SHA256("iso_sha256", "--iso-sha256", List.of()),
        DOCKER_CE("docker_ce_version", "--docker-ce", List.of("docker-ce", "docker-ce-cli")),
        CONTAINERD("containerd_version", "--containerd", List.of("containerd.io")),
        NVIDIA_DRIVER("nvidia_driver_version", "--nvidia-driver", List.of("nvidia-driver-535")),
        CONTAINER_TOOLKIT("container_toolkit_version", "--container-toolkit", List.of("nvidia-container-toolkit")),
        JRE("jre_version", "--jre", List.of());

        private final String variable;
        private final String option;
        private final List<String> packages;

        Key(String variable, String option, List<String> packages) {
            this.variable = variable;
            this.option = option;
            this.packages = packages;
        }

        public String variable() {
            return variable;
        }

        public String option() {
            return option;
        }

        /** The dpkg packages this value pins (the image test compares their installed versions with it). */
        public List<String> packages() {
            return packages;
        }

        /** Why {@code value} is not a valid value for this key, or empty when it is. */
        public Optional<String> problem(String value) {
            boolean ok = switch (this) {
                case ISO_URL -> HTTPS_URL.matcher(value).matches();
                case ISO_SHA256 -> SHA256.matcher(value).matches();
                case DOCKER_CE, CONTAINERD, NVIDIA_DRIVER, CONTAINER_TOOLKIT -> DEBIAN_VERSION.matcher(value).matches();
                case JRE -> JAVA_VERSION.matcher(value).matches();
            };
            if (ok) {
                return Optional.empty();
            }
            return Optional.of(option + " '" + value + "' is not " + switch (this) {
                case ISO_URL -> "an http(s) URL of an .iso file";
                case ISO_SHA256 -> "a SHA-256 (64 lowercase hex digits)";
                case DOCKER_CE, CONTAINERD, NVIDIA_DRIVER, CONTAINER_TOOLKIT -> "a Debian package version like 5:27.3.1-1~ubuntu.22.04~jammy";
                case JRE -> "a Java version like 25.0.1+8";
            });
        }
    }

    private final String text;
    private final Map<Key, String> values;

    private VersionsFile(String text, Map<Key, String> values) {
        this.text = text;
        this.values = values;
    }

    /** Reads the file's text; {@code source} names it in errors. Every key must be present, once, and valid. */
    public static VersionsFile parse(String text, String source) {
        requireNonNull(text, "text");
        Map<Key, String> values = new EnumMap<>(Key.class);
        List<String> problems = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int index = 0; index < lines.length; index++) {
            Matcher matcher = ASSIGNMENT.matcher(lines[index]);
            if (!matcher.matches()) {
                continue;
            }
            Optional<Key> key = keyOf(matcher.group(2));
            if (key.isEmpty()) {
                problems.add("line " + (index + 1) + ": unknown variable " + matcher.group(2));
            } else if (values.putIfAbsent(key.get(), matcher.group(4)) != null) {
                problems.add("line " + (index + 1) + ": " + matcher.group(2) + " is set twice");
            } else {
                key.get().problem(matcher.group(4)).ifPresent(problem -> problems.add(problem.replace(key.get().option(),
                        key.get().variable())));
            }
        }
        for (Key key : Key.values()) {
            if (!values.containsKey(key)) {
                problems.add(key.variable() + " is missing");
            }
        }
        if (!problems.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the pinned versions in " + source, String.join("; ", problems))
                    .withHint("each pinned value is one line `name = \"value\"` (packer/README.md)");
        }
        return new VersionsFile(text, values);
    }

    private static Optional<Key> keyOf(String variable) {
        for (Key key : Key.values()) {
            if (key.variable.equals(variable)) {
                return Optional.of(key);
            }
        }
        return Optional.empty();
    }

    public String text() {
        return text;
    }

    public String value(Key key) {
        return values.get(key);
    }

    /** The dpkg package → pinned version pairs the image must hold, in a fixed order. */
    public Map<String, String> packages() {
        Map<String, String> packages = new LinkedHashMap<>();
        for (Key key : Key.values()) {
            key.packages().forEach(name -> packages.put(name, values.get(key)));
        }
        return packages;
    }

    /** What a release manifest records as its pinned versions: the packages, the JRE and the installer ISO. */
    public Map<String, String> manifestPackages() {
        Map<String, String> packages = new LinkedHashMap<>(packages());
        packages.put("jre", values.get(Key.JRE));
        packages.put("ubuntu-iso-sha256", values.get(Key.ISO_SHA256));
        return packages;
    }

    /** This file with {@code changes} applied to their lines only; every other byte stays. Values are checked first. */
    public VersionsFile with(Map<Key, String> changes) {
        List<String> problems = new ArrayList<>();
        changes.forEach((key, value) -> key.problem(value).ifPresent(problems::add));
        if (!problems.isEmpty()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "bump the pinned versions", String.join("; ", problems))
                    .withHint("nothing was changed");
        }
        String[] lines = text.split("\n", -1);
        for (int index = 0; index < lines.length; index++) {
            Matcher matcher = ASSIGNMENT.matcher(lines[index]);
            if (matcher.matches()) {
                Optional<Key> key = keyOf(matcher.group(2));
                if (key.isPresent() && changes.containsKey(key.get())) {
                    lines[index] = matcher.group(1) + matcher.group(2) + matcher.group(3) + "\"" + changes.get(key.get()) + "\""
                            + matcher.group(5);
                }
            }
        }
        Map<Key, String> updated = new EnumMap<>(values);
        updated.putAll(changes);
        return new VersionsFile(String.join("\n", lines), updated);
    }
}
