package dev.ingot.health;

import dev.ingot.boot.GrubEnv;
import dev.ingot.boot.GrubMenu;
import dev.ingot.boot.Slot;
import dev.ingot.error.IngotException;
import dev.ingot.health.HealthReport.ImageInfo;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device's own files the report reads: {@code /etc/edge/image-version} (written into the image at build,
 * {@code Manifest.imageVersionFile}, or by the old runbook in one line), {@code /etc/edge/site-id} (provisioning), the camera variables of
 * {@code /etc/edge/video-ingest.env} (provisioning; docker run --env-file format), and the A/B slot markers.
 */
public final class EdgeFiles {
    public static final String IMAGE_VERSION = "/etc/edge/image-version";
    public static final String SITE_ID = "/etc/edge/site-id";
    public static final String MACHINE_ID = "/etc/machine-id";
    public static final String VIDEO_INGEST_ENV = "/etc/edge/video-ingest.env";
    public static final String KERNEL_COMMAND_LINE = "/proc/cmdline";
    /**
     * The committed slot: {@code saved_entry} in GRUB's environment on the ESP, which both slots see and which the
     * agent's commit step sets (docs/agent.md, "The GRUB scheme").
     */
    public static final String COMMITTED_SLOT = GrubMenu.ENV_PATH;
    /** RFC 2326's default port, when the environment file names none. */
    public static final int RTSP_DEFAULT_PORT = 554;

    private static final Pattern SLOT_ARGUMENT = Pattern.compile("(?:^|\\s)ingot\\.slot=(\\S+)");
    private static final Pattern SLOT = Pattern.compile("[ab]");
    private static final Pattern RUNBOOK_LINE = Pattern.compile("(\\S+)\\s+(\\S+)");

    private EdgeFiles() {}

    /** {@code NAME=value} lines as docker run --env-file reads them: '#' lines are comments, the value is literal. */
    public static Map<String, String> environment(String text) {
        Map<String, String> variables = new LinkedHashMap<>();
        for (String line : text.lines().toList()) {
            String trimmed = line.strip();
            int equals = trimmed.indexOf('=');
            if (trimmed.isEmpty() || trimmed.startsWith("#") || equals <= 0) {
                continue;
            }
            variables.put(trimmed.substring(0, equals), trimmed.substring(equals + 1));
        }
        return variables;
    }

    /**
     * The image a root runs, from {@code /etc/edge/image-version} in either of its two forms: Ingot's {@code IMAGE_NAME=},
     * {@code IMAGE_VERSION=}, {@code BUILD_DATE=} (ISO-8601 instant) lines, or the old runbook's one line, the version tag and
     * the build date ({@code v1.3 2026-08-02}), which images built before Ingot hold. The one-line form names no image: it
     * is {@link ImageName#DEFAULT}, the runbook's only image, and a bare date is read as 00:00 UTC that day.
     */
    public static Probed<ImageInfo> imageVersion(String text) {
        Map<String, String> values = environment(text);
        if (values.isEmpty()) {
            Optional<String> line = text.lines().map(String::strip).filter(candidate -> !candidate.isEmpty() && !candidate.startsWith("#"))
                    .findFirst();
            if (line.isEmpty()) {
                return Probed.failed(IMAGE_VERSION + " is empty");
            }
            return runbookLine(line.get());
        }
        for (String key : List.of("IMAGE_NAME", "IMAGE_VERSION", "BUILD_DATE")) {
            if (values.getOrDefault(key, "").isEmpty()) {
                return Probed.failed(IMAGE_VERSION + " has no " + key + "= line");
            }
        }
        try {
            return Probed.found(new ImageInfo(new ImageName(values.get("IMAGE_NAME")), ImageVersion.parse(values.get("IMAGE_VERSION")),
                    Instant.parse(values.get("BUILD_DATE"))));
        } catch (IngotException e) {
            return Probed.failed(IMAGE_VERSION + " cannot be read: " + e.getMessage());
        } catch (DateTimeParseException e) {
            return Probed.failed(IMAGE_VERSION + " has a BUILD_DATE that is not an ISO-8601 instant: '"
                    + Excerpt.of(values.get("BUILD_DATE")) + "'");
        }
    }

    /** The old runbook's form: {@code VERSION DATE}, the date ISO-8601 ({@code 2026-08-02}, or an instant). */
    private static Probed<ImageInfo> runbookLine(String line) {
        Matcher matcher = RUNBOOK_LINE.matcher(line);
        if (!matcher.matches()) {
            return Probed.failed(IMAGE_VERSION + " holds neither IMAGE_NAME=, IMAGE_VERSION=, BUILD_DATE= lines nor the one-line form "
                    + "'v1.3 2026-08-02': '" + Excerpt.of(line) + "'");
        }
        ImageVersion version;
        try {
            version = ImageVersion.parse(matcher.group(1));
        } catch (IngotException e) {
            return Probed.failed(IMAGE_VERSION + " cannot be read: " + e.getMessage());
        }
        String date = matcher.group(2);
        try {
            Instant built = date.contains("T") ? Instant.parse(date) : LocalDate.parse(date).atStartOfDay(ZoneOffset.UTC).toInstant();
            return Probed.found(new ImageInfo(ImageName.DEFAULT, version, built));
        } catch (DateTimeParseException e) {
            return Probed.failed(IMAGE_VERSION + " has a build date that is not an ISO-8601 date: '" + Excerpt.of(date) + "'");
        }
    }

    public static Probed<SiteId> siteId(String text) {
        String value = text.strip();
        try {
            return Probed.found(new SiteId(value));
        } catch (IngotException e) {
            return Probed.failed(SITE_ID + " does not hold a site id ('" + Excerpt.of(value) + "'); provisioning writes it");
        }
    }

    /** The slot the kernel was booted from: {@code ingot.slot=a|b} on the kernel command line, put there by the bootloader entry. */
    public static Optional<String> bootedSlot(String commandLine) {
        Matcher matcher = SLOT_ARGUMENT.matcher(commandLine);
        return matcher.find() ? Optional.of(matcher.group(1)).filter(slot -> SLOT.matcher(slot).matches()) : Optional.empty();
    }

    /**
     * The slot GRUB boots by default, from the text of its environment block: the one {@code saved_entry} names, and
     * slot a when it names none or the block cannot be read, as the A/B grub.cfg decides ({@link GrubMenu#boot}).
     */
    public static Optional<String> committedSlot(String grubenv) {
        Map<String, String> variables;
        try {
            variables = GrubEnv.parse(grubenv.getBytes(StandardCharsets.UTF_8), COMMITTED_SLOT).variables();
        } catch (IngotException e) {
            variables = Map.of();
        }
        return Optional.of(GrubMenu.entry(variables.get(GrubMenu.SAVED_ENTRY)).orElse(Slot.A).letter());
    }

    /** A camera to try: an IP literal and its RTSP port. */
    public record CameraAddress(String address, int port) {}

    /**
     * The cameras of {@code video-ingest.env}: {@code CAMERA_IPS} (comma-separated IPv4 addresses) and
     * {@code CAMERA_RTSP_PORT} (default {@value #RTSP_DEFAULT_PORT}). Only these two variables are read: the
     * file also holds secrets, which never enter the report.
     */
    public static Probed<List<CameraAddress>> cameras(String environmentFile) {
        Map<String, String> variables = environment(environmentFile);
        String portText = variables.getOrDefault("CAMERA_RTSP_PORT", "").strip();
        int port = RTSP_DEFAULT_PORT;
        if (!portText.isEmpty()) {
            if (!portText.matches("[0-9]{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
                return Probed.failed(VIDEO_INGEST_ENV + " has CAMERA_RTSP_PORT='" + Excerpt.of(portText)
                        + "', not a port number");
            }
            port = Integer.parseInt(portText);
        }
        List<CameraAddress> cameras = new ArrayList<>();
        for (String address : variables.getOrDefault("CAMERA_IPS", "").split(",")) {
            if (!address.isBlank()) {
                cameras.add(new CameraAddress(address.strip(), port));
            }
        }
        return Probed.found(List.copyOf(cameras));
    }
}
