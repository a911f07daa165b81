package dev.ingot.site;

/**
 * {@code /etc/systemd/system/video-ingest.service}: runs the configured container on the GPU, pulling its image
 * before each start. Format: systemd.unit(5), systemd.service(5); the docker options: docker-run(1).
 *
 * <p>The image is {@code ${VIDEO_INGEST_REPOSITORY}:${VIDEO_INGEST_TAG}}: both come from the site parameter
 * {@code video_ingest_image}, and the tag is overridden by {@link #TAG_OVERRIDE_PATH} when the control plane has
 * rolled one out (systemd.exec(5): settings from EnvironmentFile= override Environment=). That file is the device
 * agent's, on the data partition: re-provisioning rewrites this unit and never reverts a rollout, and a new root
 * slot finds it too (docs/agent.md, "Which tag wins").
 */
public final class VideoIngestUnit {
    public static final String PATH = "/etc/systemd/system/video-ingest.service";
    public static final String UNIT = "video-ingest.service";
    /** The agent's override of the tag: {@code VIDEO_INGEST_TAG=2026.11.3}, on the data partition. */
    public static final String TAG_OVERRIDE_PATH = "/data/ingot/agent/video-ingest-tag.env";
    /** The variable the override sets. */
    public static final String TAG_VARIABLE = "VIDEO_INGEST_TAG";

    private VideoIngestUnit() {}

    public static String render(SiteConfig config) {
        ContainerImage image = config.videoIngestImage();
        String tag = image.tag() + image.digest().map(digest -> "@" + digest).orElse("");
        return SiteFiles.header("#", config, "video_ingest_image", "systemd.service(5); systemd-analyze verify checks it") + """
                [Unit]
                Description=video-ingest container (site %1$s)
                Requires=docker.service
                After=docker.service network-online.target
                Wants=network-online.target
                # The tag the control plane rolled out lives on the data partition.
                RequiresMountsFor=/data
                # Keep trying however often it fails: a site that lost its network recovers by itself.
                StartLimitIntervalSec=0

                [Service]
                Type=simple
                Environment=VIDEO_INGEST_REPOSITORY=%2$s
                Environment=%6$s=%3$s
                # Written by the ingot agent when the control plane rolls out a tag; '-': absent until then.
                EnvironmentFile=-%5$s
                # Pulling a new image can take minutes on a site's link.
                TimeoutStartSec=15min
                TimeoutStopSec=45s
                Restart=always
                RestartSec=10s
                # A container left over from a crash would block the name; '-' ignores "no such container".
                ExecStartPre=-/usr/bin/docker rm --force video-ingest
                # Pull before each start; '-': without a network the image already on the device still runs.
                ExecStartPre=-/usr/bin/docker pull ${VIDEO_INGEST_REPOSITORY}:${%6$s}
                # Host networking: RTP media from the cameras arrives on ports RTSP negotiates, which port mapping cannot know.
                ExecStart=/usr/bin/docker run --rm --name video-ingest --runtime=nvidia --gpus all --network host --env-file %4$s ${VIDEO_INGEST_REPOSITORY}:${%6$s}
                ExecStop=/usr/bin/docker stop --time 30 video-ingest

                [Install]
                WantedBy=multi-user.target
                """.formatted(config.site(), image.repository(), tag, VideoIngestEnvironment.PATH, TAG_OVERRIDE_PATH, TAG_VARIABLE);
    }
}
