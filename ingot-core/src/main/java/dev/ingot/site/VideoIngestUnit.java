package dev.ingot.site;

/**
 * {@code /etc/systemd/system/video-ingest.service}: runs the configured container on the GPU, pulling its image
 * before each start. Format: systemd.unit(5), systemd.service(5); the docker options: docker-run(1).
 */
public final class VideoIngestUnit {
    public static final String PATH = "/etc/systemd/system/video-ingest.service";
    public static final String UNIT = "video-ingest.service";

    private VideoIngestUnit() {}

    public static String render(SiteConfig config) {
        return SiteFiles.header("#", config, "video_ingest_image", "systemd.service(5); systemd-analyze verify checks it") + """
                [Unit]
                Description=video-ingest container (site %1$s)
                Requires=docker.service
                After=docker.service network-online.target
                Wants=network-online.target
                # Keep trying however often it fails: a site that lost its network recovers by itself.
                StartLimitIntervalSec=0

                [Service]
                Type=simple
                # Pulling a new image can take minutes on a site's link.
                TimeoutStartSec=15min
                TimeoutStopSec=45s
                Restart=always
                RestartSec=10s
                # A container left over from a crash would block the name; '-' ignores "no such container".
                ExecStartPre=-/usr/bin/docker rm --force video-ingest
                # Pull before each start; '-': without a network the image already on the device still runs.
                ExecStartPre=-/usr/bin/docker pull %2$s
                # Host networking: RTP media from the cameras arrives on ports RTSP negotiates, which port mapping cannot know.
                ExecStart=/usr/bin/docker run --rm --name video-ingest --runtime=nvidia --gpus all --network host --env-file %3$s %2$s
                ExecStop=/usr/bin/docker stop --time 30 video-ingest

                [Install]
                WantedBy=multi-user.target
                """.formatted(config.site(), config.videoIngestImage(), VideoIngestEnvironment.PATH);
    }
}
