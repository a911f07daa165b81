package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything that varies per site, typed and checked: what {@link SiteParameters#read} makes of the
 * parameters under {@code /edge/SITE/}, and all the renderers need. docs/site-parameters.md describes each.
 *
 * @param ntpServer host name or IP address of the site's NTP server
 * @param cameraIps the site's cameras, in the order given
 * @param mgmtCidrV6 the management network's IPv6 form, when it has one
 * @param videoIngestEnvironment extra variables for the video-ingest container, by name
 */
public record SiteConfig(SiteId site, String ntpServer, List<Ipv4Address> cameraIps, int cameraRtspPort, String s3Bucket,
        URI sqsUrl, String awsRegion, ContainerImage videoIngestImage, Cidr mgmtCidr, Optional<Ipv6Cidr> mgmtCidrV6, Optional<URI> controlPlaneUrl,
        Optional<Secret> enrollmentToken, Optional<String> siteName, SortedMap<String, EnvironmentValue> videoIngestEnvironment,
        Optional<String> controlPlaneCa) {

    public SiteConfig {
        requireNonNull(site, "site");
        requireNonNull(ntpServer, "ntpServer");
        cameraIps = List.copyOf(cameraIps);
        requireNonNull(s3Bucket, "s3Bucket");
        requireNonNull(sqsUrl, "sqsUrl");
        requireNonNull(awsRegion, "awsRegion");
        requireNonNull(videoIngestImage, "videoIngestImage");
        requireNonNull(mgmtCidr, "mgmtCidr");
        requireNonNull(mgmtCidrV6, "mgmtCidrV6");
        requireNonNull(controlPlaneUrl, "controlPlaneUrl");
        requireNonNull(enrollmentToken, "enrollmentToken");
        requireNonNull(siteName, "siteName");
        videoIngestEnvironment = Collections.unmodifiableSortedMap(new TreeMap<>(videoIngestEnvironment));
        requireNonNull(controlPlaneCa, "controlPlaneCa");
    }

    /** A value for the video-ingest container's environment: plain text, or a secret that never shows. */
    public sealed interface EnvironmentValue {
        /** The value to write into the environment file. */
        String reveal();

        /** The value as logs and diffs may show it. */
        String shown();

        record Plain(String text) implements EnvironmentValue {
            public Plain {
                requireNonNull(text, "text");
            }

            @Override
            public String reveal() {
                return text;
            }

            @Override
            public String shown() {
                return text;
            }
        }

        record Hidden(Secret secret) implements EnvironmentValue {
            public Hidden {
                requireNonNull(secret, "secret");
            }

            @Override
            public String reveal() {
                return secret.reveal();
            }

            @Override
            public String shown() {
                return Secret.MASK;
            }
        }
    }
}
