package dev.ingot.site;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code /etc/edge/video-ingest.env}, mode 0600: the container's environment. Format: {@code docker run --env-file}
 * (docker-run(1)): one {@code NAME=value} per line, the value taken literally (no quotes, no expansion), '#' lines
 * are comments.
 */
public final class VideoIngestEnvironment {
    public static final String PATH = "/etc/edge/video-ingest.env";
    /** The variables set from the site's typed parameters; {@code video_ingest_env/} may not set them again. */
    public static final Set<String> FROM_PARAMETERS =
            Set.of("SITE_ID", "SITE_NAME", "AWS_REGION", "S3_BUCKET", "SQS_URL", "CAMERA_IPS", "CAMERA_RTSP_PORT");

    private VideoIngestEnvironment() {}

    /** The file's text; with {@code reveal} false, SecureString values read {@value Secret#MASK} (for diffs and logs). */
    public static String render(SiteConfig config, boolean reveal) {
        StringBuilder text = new StringBuilder(SiteFiles.header("#", config, "aws_region, s3_bucket, sqs_url, camera_ips, "
                + "camera_rtsp_port, site_name, video_ingest_env/*", "docker run --env-file: NAME=value per line, taken literally"));
        for (Map.Entry<String, String> variable : fromParameters(config).entrySet()) {
            text.append(variable.getKey()).append('=').append(variable.getValue()).append('\n');
        }
        if (!config.videoIngestEnvironment().isEmpty()) {
            text.append("# From video_ingest_env/:\n");
            config.videoIngestEnvironment().forEach((name, value) ->
                    text.append(name).append('=').append(reveal ? value.reveal() : value.shown()).append('\n'));
        }
        return text.toString();
    }

    /** The variables set from typed parameters, in the file's order; none of them is ever secret. */
    static Map<String, String> fromParameters(SiteConfig config) {
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("SITE_ID", config.site().value());
        config.siteName().ifPresent(name -> variables.put("SITE_NAME", name));
        variables.put("AWS_REGION", config.awsRegion());
        variables.put("S3_BUCKET", config.s3Bucket());
        variables.put("SQS_URL", config.sqsUrl().toString());
        variables.put("CAMERA_IPS", config.cameraIps().stream().map(Ipv4Address::toString).collect(Collectors.joining(",")));
        variables.put("CAMERA_RTSP_PORT", Integer.toString(config.cameraRtspPort()));
        return variables;
    }
}
