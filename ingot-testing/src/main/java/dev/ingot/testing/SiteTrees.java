package dev.ingot.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A site's parameters as tests use them: a complete, valid set (plain names and values, so this module needs no
 * core types), written as a folder tree ({@code ROOT/edge/SITE/NAME}, secure ones mode 0600) or put into an
 * {@link SsmServer}.
 */
public final class SiteTrees {
    /** The value of the typical site's one SecureString in video_ingest_env/: tests look for it in every output. */
    public static final String API_KEY = "sk-live-7d1c0ffee-do-not-print";
    /** The typical site's enrollment token (a SecureString). */
    public static final String ENROLLMENT_TOKEN = "enroll-9b2f4e61a0c3-do-not-print";

    private SiteTrees() {}

    /** A complete, valid site: every required parameter and every optional one, one extra variable plain and one secure. */
    public static Map<String, String> typical() {
        Map<String, String> values = new TreeMap<>();
        values.put("ntp_server", "ntp.site-2847.example.net");
        values.put("camera_ips", "10.28.47.21,10.28.47.22");
        values.put("camera_rtsp_port", "8554");
        values.put("s3_bucket", "edge-video-us-east-1");
        values.put("sqs_url", "https://sqs.us-east-1.amazonaws.com/123456789012/edge-video-events");
        values.put("aws_region", "us-east-1");
        values.put("video_ingest_image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1");
        values.put("mgmt_cidr", "10.20.0.0/16");
        values.put("mgmt_cidr_v6", "fd20:2847::/48");
        values.put("control_plane_url", "https://ingot.example.net");
        values.put("enrollment_token", ENROLLMENT_TOKEN);
        values.put("site_name", "Riverside distribution centre");
        values.put("video_ingest_env/LOG_LEVEL", "info");
        values.put("video_ingest_env/API_KEY", API_KEY);
        return values;
    }

    /** The names of {@link #typical()} that are SecureStrings. */
    public static Set<String> typicalSecure() {
        return Set.of("enrollment_token", "video_ingest_env/API_KEY");
    }

    /** Writes {@code values} under {@code root/edge/SITE/}, the {@code secure} ones readable by their owner only. */
    public static Path write(Path root, String site, Map<String, String> values, Set<String> secure) {
        Path folder = root.resolve("edge").resolve(site);
        try {
            for (Map.Entry<String, String> value : values.entrySet()) {
                Path file = folder.resolve(value.getKey());
                Files.createDirectories(file.getParent());
                Files.writeString(file, value.getValue() + "\n", StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(secure.contains(value.getKey()) ? "rw-------" : "rw-r--r--"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return root;
    }

    /** Puts {@code values} into the server under {@code /edge/SITE/}: SecureStrings, a StringList for camera_ips, Strings otherwise. */
    public static void put(SsmServer server, String site, Map<String, String> values, Set<String> secure) {
        values.forEach((name, value) -> server.put("/edge/" + site + "/" + name,
                secure.contains(name) ? "SecureString" : name.equals("camera_ips") ? "StringList" : "String", value));
    }
}
