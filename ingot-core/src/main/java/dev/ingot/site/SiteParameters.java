package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.http.PemTrust;
import dev.ingot.site.ParameterSource.Parameter;
import dev.ingot.site.SiteConfig.EnvironmentValue;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The schema of a site's parameters under {@code /edge/SITE/} (docs/site-parameters.md) and the one
 * place that checks them. {@link #read} checks every parameter before it fails, so one run names every
 * problem, one line each; a SecureString's value never appears in a problem.
 */
public final class SiteParameters {
    public static final String NTP_SERVER = "ntp_server";
    public static final String CAMERA_IPS = "camera_ips";
    public static final String CAMERA_RTSP_PORT = "camera_rtsp_port";
    public static final String S3_BUCKET = "s3_bucket";
    public static final String SQS_URL = "sqs_url";
    public static final String AWS_REGION = "aws_region";
    public static final String VIDEO_INGEST_IMAGE = "video_ingest_image";
    public static final String MGMT_CIDR = "mgmt_cidr";
    /** The management network's IPv6 form, where it has one: SSH over IPv6 is accepted from it only. */
    public static final String MGMT_CIDR_V6 = "mgmt_cidr_v6";
    public static final String CONTROL_PLANE_URL = "control_plane_url";
    public static final String ENROLLMENT_TOKEN = "enrollment_token";
    /** PEM certificates the agent trusts for the control plane instead of the public authorities (a private CA). */
    public static final String CONTROL_PLANE_CA = "control_plane_ca";
    public static final String SITE_NAME = "site_name";
    /** Extra variables for the video-ingest container: {@code video_ingest_env/LOG_LEVEL}. */
    public static final String VIDEO_INGEST_ENV = "video_ingest_env/";

    public static final int DEFAULT_CAMERA_RTSP_PORT = 554;

    /** What each required parameter is, for the line that says it is missing. */
    private static final Map<String, String> REQUIRED = Map.of(
            NTP_SERVER, "the site's NTP server, a host name or IP address",
            CAMERA_IPS, "the cameras' IPv4 addresses, comma-separated",
            S3_BUCKET, "the bucket video-ingest uploads to",
            SQS_URL, "the SQS queue URL video-ingest notifies",
            AWS_REGION, "the AWS region, like us-east-1",
            VIDEO_INGEST_IMAGE, "the video-ingest container image with its tag",
            MGMT_CIDR, "the management network allowed to reach SSH, like 10.20.0.0/16");
    private static final Set<String> OPTIONAL = Set.of(CAMERA_RTSP_PORT, MGMT_CIDR_V6, CONTROL_PLANE_URL, CONTROL_PLANE_CA, ENROLLMENT_TOKEN, SITE_NAME);
    /** The only parameters that may be SecureStrings: every other value lands in files anyone on the device may read. */
    private static final Set<String> MAY_BE_SECURE = Set.of(ENROLLMENT_TOKEN);

    private static final Pattern REGION = Pattern.compile("[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}");
    private static final Pattern SQS_PATH = Pattern.compile("/[0-9]{12}/[A-Za-z0-9_-]{1,80}(?:\\.fifo)?");
    private static final Pattern SQS_HOST = Pattern.compile("sqs\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?");
    private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern ENVIRONMENT_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7e]{1,4096}");
    private static final int MAXIMUM_SITE_NAME = 128;

    private SiteParameters() {}

    /** Where a site's parameters live in the store: {@code /edge/SITE-2847/}. */
    public static String pathOf(SiteId site) {
        return "/edge/" + site.value() + "/";
    }

    /** A checked configuration, and the names under the site's path that are not part of the schema (left alone). */
    public record Reading(SiteConfig config, List<String> ignored) {
        public Reading {
            requireNonNull(config, "config");
            ignored = List.copyOf(ignored);
        }
    }

    /**
     * Checks every parameter and builds the configuration.
     *
     * @param parameters what {@link ParameterSource#readAll} returned for {@link #pathOf(SiteId)}
     * @param source the source as the user named it, for the error message
     * @throws IngotException {@code BAD_INPUT} naming every missing or malformed parameter, one line each
     */
    public static Reading read(SiteId site, SortedMap<String, Parameter> parameters, String source) {
        requireNonNull(site, "site");
        requireNonNull(parameters, "parameters");
        Checker check = new Checker(parameters);

        Optional<String> ntpServer = check.required(NTP_SERVER, SiteParameters::hostProblem, Function.identity());
        Optional<List<Ipv4Address>> cameras = check.cameras();
        int rtspPort = check.optional(CAMERA_RTSP_PORT, SiteParameters::portProblem, Integer::parseInt)
                .orElse(DEFAULT_CAMERA_RTSP_PORT);
        Optional<String> bucket = check.required(S3_BUCKET, SiteParameters::bucketProblem, Function.identity());
        Optional<String> region = check.required(AWS_REGION,
                text -> REGION.matcher(text).matches() ? Optional.empty() : Optional.of("is not an AWS region name, like us-east-1"),
                Function.identity());
        Optional<URI> sqsUrl = check.required(SQS_URL, text -> sqsProblem(text, region), URI::create);
        Optional<ContainerImage> image = check.required(VIDEO_INGEST_IMAGE, ContainerImage::problemWith, ContainerImage::parse);
        Optional<Cidr> mgmt = check.required(MGMT_CIDR, Cidr::problemWith, Cidr::parse);
        Optional<Ipv6Cidr> mgmtV6 = check.optional(MGMT_CIDR_V6, Ipv6Cidr::problemWith, Ipv6Cidr::parse);
        Optional<URI> controlPlane = check.optional(CONTROL_PLANE_URL, SiteParameters::controlPlaneProblem, URI::create);
        Optional<Secret> token = check.optional(ENROLLMENT_TOKEN,
                text -> TOKEN.matcher(text).matches() ? Optional.empty()
                        : Optional.of("is not one word of at most 4096 visible ASCII characters (no spaces or line breaks)"),
                Secret::of);
        Optional<String> siteName = check.optional(SITE_NAME, SiteParameters::siteNameProblem, Function.identity());
        Optional<String> controlPlaneCa = check.optional(CONTROL_PLANE_CA, PemTrust::problemWith,
                text -> text.strip() + "\n");
        SortedMap<String, EnvironmentValue> environment = check.environment();

        if (!check.problems.isEmpty()) {
            String count = check.problems.size() == 1 ? "1 parameter is" : check.problems.size() + " parameters are";
            throw IngotException.tried(ErrorCode.BAD_INPUT,
                            "read the parameters of site " + site + " under " + pathOf(site) + " from " + source,
                            count + " missing or malformed (nothing was written):\n  - " + String.join("\n  - ", check.problems) + "\n")
                    .withHint("set them under " + pathOf(site) + " (docs/site-parameters.md describes each), then run again");
        }
        SiteConfig config = new SiteConfig(site, ntpServer.orElseThrow(), cameras.orElseThrow(), rtspPort, bucket.orElseThrow(),
                sqsUrl.orElseThrow(), region.orElseThrow(), image.orElseThrow(), mgmt.orElseThrow(), mgmtV6, controlPlane, token, siteName,
                environment, controlPlaneCa);
        return new Reading(config, check.ignored());
    }

    /** Collects problems while each parameter is checked; a value is built only from a parameter that passed. */
    private static final class Checker {
        private final SortedMap<String, Parameter> parameters;
        private final List<String> problems = new ArrayList<>();

        Checker(SortedMap<String, Parameter> parameters) {
            this.parameters = parameters;
        }

        <T> Optional<T> required(String name, Function<String, Optional<String>> problem, Function<String, T> build) {
            Parameter parameter = parameters.get(name);
            if (parameter == null) {
                problems.add(name + ": missing (required: " + REQUIRED.get(name) + ")" + misspelling(name));
                return Optional.empty();
            }
            return check(parameter, problem, build);
        }

        <T> Optional<T> optional(String name, Function<String, Optional<String>> problem, Function<String, T> build) {
            Parameter parameter = parameters.get(name);
            return parameter == null ? Optional.empty() : check(parameter, problem, build);
        }

        private <T> Optional<T> check(Parameter parameter, Function<String, Optional<String>> problem, Function<String, T> build) {
            if (parameter.secure() && !MAY_BE_SECURE.contains(parameter.name())) {
                problems.add(parameter.name() + ": is a SecureString, but its value goes into files any user of the device may read"
                        + " (store it as a String; only " + String.join(", ", MAY_BE_SECURE) + " and " + VIDEO_INGEST_ENV
                        + "* may be SecureStrings)");
                return Optional.empty();
            }
            if (parameter.value().isEmpty()) {
                problems.add(parameter.name() + ": is empty");
                return Optional.empty();
            }
            Optional<String> found = problem.apply(parameter.value());
            if (found.isPresent()) {
                problems.add(parameter.name() + " " + shown(parameter) + ": " + found.get());
                return Optional.empty();
            }
            return Optional.of(build.apply(parameter.value()));
        }

        Optional<List<Ipv4Address>> cameras() {
            return required(CAMERA_IPS, SiteParameters::camerasProblem, text -> splitList(text).stream().map(Ipv4Address::parse).toList());
        }

        SortedMap<String, EnvironmentValue> environment() {
            SortedMap<String, EnvironmentValue> environment = new TreeMap<>();
            for (Parameter parameter : parameters.values()) {
                if (!parameter.name().startsWith(VIDEO_INGEST_ENV)) {
                    continue;
                }
                String variable = parameter.name().substring(VIDEO_INGEST_ENV.length());
                if (!ENVIRONMENT_NAME.matcher(variable).matches()) {
                    problems.add(parameter.name() + ": '" + printable(variable)
                            + "' is not an environment variable name (letters, digits and '_', not starting with a digit)");
                } else if (VideoIngestEnvironment.FROM_PARAMETERS.contains(variable)) {
                    problems.add(parameter.name() + ": " + variable + " is set from the site's own parameters; choose another name");
                } else if (parameter.value().indexOf('\n') >= 0 || parameter.value().indexOf('\r') >= 0
                        || parameter.value().indexOf('\0') >= 0) {
                    problems.add(parameter.name() + " " + shown(parameter)
                            + ": has a line break or NUL (docker's --env-file holds one line per variable)");
                } else {
                    environment.put(variable, parameter.secure() ? new EnvironmentValue.Hidden(Secret.of(parameter.value()))
                            : new EnvironmentValue.Plain(parameter.value()));
                }
            }
            return environment;
        }

        List<String> ignored() {
            return parameters.keySet().stream()
                    .filter(name -> !REQUIRED.containsKey(name) && !OPTIONAL.contains(name) && !name.startsWith(VIDEO_INGEST_ENV))
                    .toList();
        }

        /** A hint when an unknown name is one or two typos away from a missing one. */
        private String misspelling(String name) {
            return ignored().stream().filter(other -> editDistance(name, other) <= 2).findFirst()
                    .map(other -> " (is '" + printable(other) + "' a misspelling of it?)").orElse("");
        }

        private static String shown(Parameter parameter) {
            return parameter.secure() ? "(a SecureString, value not shown)" : "'" + printable(parameter.value()) + "'";
        }
    }

    /** A value as one line of an error: control characters escaped, long values cut. */
    static String printable(String text) {
        StringBuilder shown = new StringBuilder();
        text.codePoints().limit(100).forEach(c -> {
            switch (c) {
                case '\n' -> shown.append("\\n");
                case '\r' -> shown.append("\\r");
                case '\t' -> shown.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        shown.append(String.format(Locale.ROOT, "\\u%04x", c));
                    } else {
                        shown.appendCodePoint(c);
                    }
                }
            }
        });
        return text.codePointCount(0, text.length()) > 100 ? shown + "…" : shown.toString();
    }

    static Optional<String> hostProblem(String text) {
        if (text.indexOf(':') >= 0) {
            try {
                return InetAddress.ofLiteral(text) instanceof Inet6Address ? Optional.empty()
                        : Optional.of("is not an IPv6 address");
            } catch (IllegalArgumentException e) {
                return Optional.of("is not an IPv6 address (a host name has no ':')");
            }
        }
        String[] labels = text.split("\\.", -1);
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            // RFC 1123 2.1: a top-level label is never all digits, so this is meant as an IPv4 address.
            return Ipv4Address.problemWith(text).map(problem -> "is not an IPv4 address: " + problem);
        }
        if (text.length() > 253) {
            return Optional.of("is longer than a host name may be (253 characters)");
        }
        for (String label : labels) {
            if (!HOST_LABEL.matcher(label).matches()) {
                return Optional.of("is not a host name (labels of letters, digits and '-', joined by dots) or an IP address");
            }
        }
        return Optional.empty();
    }

    static List<String> splitList(String text) {
        List<String> items = new ArrayList<>();
        for (String item : text.split(",", -1)) {
            items.add(item.strip());
        }
        return items;
    }

    static Optional<String> camerasProblem(String text) {
        List<String> bad = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> repeated = new ArrayList<>();
        for (String item : splitList(text)) {
            if (Ipv4Address.problemWith(item).isPresent()) {
                bad.add("'" + printable(item) + "'");
            } else if (!seen.add(Ipv4Address.parse(item).toString())) {
                repeated.add(item);
            }
        }
        if (!bad.isEmpty()) {
            return Optional.of(String.join(", ", bad) + (bad.size() == 1 ? " is not an IPv4 address" : " are not IPv4 addresses")
                    + " (a StringList: addresses like 10.1.2.30, comma-separated)");
        }
        if (!repeated.isEmpty()) {
            return Optional.of("lists " + String.join(", ", repeated) + " more than once");
        }
        return Optional.empty();
    }

    static Optional<String> portProblem(String text) {
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9') || text.charAt(0) == '0'
                || Integer.parseInt(text) > 65535) {
            return Optional.of("is not a TCP port (1 to 65535)");
        }
        return Optional.empty();
    }

    /** The S3 bucket naming rules (S3 User Guide, "General purpose bucket naming rules"). */
    static Optional<String> bucketProblem(String text) {
        if (text.startsWith("s3://") || text.startsWith("arn:")) {
            return Optional.of("give the bucket's name only, like edge-video-us-east-1");
        }
        if (text.length() < 3 || text.length() > 63) {
            return Optional.of("a bucket name is 3 to 63 characters long");
        }
        if (!text.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
            return Optional.of("a bucket name has only lowercase letters, digits, '.' and '-'");
        }
        if (!Character.isLetterOrDigit(text.charAt(0)) || !Character.isLetterOrDigit(text.charAt(text.length() - 1))) {
            return Optional.of("a bucket name starts and ends with a letter or digit");
        }
        if (text.contains("..") || Ipv4Address.problemWith(text).isEmpty() || text.startsWith("xn--")
                || text.endsWith("-s3alias") || text.endsWith("--ol-s3")) {
            return Optional.of("is not a valid bucket name (no '..', not an IP address, no xn-- prefix or -s3alias suffix)");
        }
        return Optional.empty();
    }

    static Optional<String> sqsProblem(String text, Optional<String> region) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return Optional.of("is not a URL");
        }
        if (!"https".equals(uri.getScheme()) || uri.getHost() == null || uri.getRawUserInfo() != null) {
            return Optional.of("is not an https:// URL with a host (like https://sqs.us-east-1.amazonaws.com/123456789012/video-events)");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawPath() == null
                || !SQS_PATH.matcher(uri.getRawPath()).matches()) {
            return Optional.of("is not a queue URL: its path is /ACCOUNT-ID/QUEUE-NAME (12 digits, then the name)");
        }
        Matcher host = SQS_HOST.matcher(uri.getHost());
        if (host.matches() && region.isPresent() && !host.group(1).equals(region.get())) {
            return Optional.of("the queue is in " + host.group(1) + " but aws_region is " + region.get());
        }
        return Optional.empty();
    }

    /** What is wrong with a control plane URL, by the rule the agent keeps too: https, or http to a loopback address only. */
    public static Optional<String> controlPlaneProblem(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return Optional.of("is not a URL");
        }
        if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
            return Optional.of("is not an https:// URL with a host (like https://ingot.example.net)");
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return Optional.of("has a user, query or fragment (credentials go in enrollment_token, never in the URL)");
        }
        // The agent sends the enrollment token to this URL: in the clear only where it never leaves the machine.
        if ("http".equals(uri.getScheme()) && !isLoopback(uri.getHost())) {
            return Optional.of("is plain http://, which would carry the enrollment token in the clear: use https:// "
                    + "(http:// is accepted for loopback only: localhost, 127.0.0.0/8, [::1])");
        }
        return Optional.empty();
    }

    /** A loopback host by its literal form alone (no DNS lookup): localhost (RFC 6761 §6.3), 127.0.0.0/8, ::1. */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        try {
            return InetAddress.ofLiteral(literal).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static Optional<String> siteNameProblem(String text) {
        if (text.codePoints().anyMatch(Character::isISOControl)) {
            return Optional.of("has a line break or control character");
        }
        if (text.codePointCount(0, text.length()) > MAXIMUM_SITE_NAME) {
            return Optional.of("is longer than " + MAXIMUM_SITE_NAME + " characters");
        }
        return Optional.empty();
    }

    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
