package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.agent.ControlPlane.ReleaseDownload;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.site.Secret;
import dev.ingot.store.ArtifactStore;
import dev.ingot.store.HttpStore;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Releases as the device sees them: a read-only {@link ArtifactStore} over the URLs the control plane hands out
 * ({@code GET /api/v1/device/releases/{version}}), so that the one trust path ({@code ReleaseVerifier.trust}), the flash
 * engine and the one cache logic ({@code UsbCache}) read them as they read any store, ranged and resumable
 * ({@link HttpStore}). Keys are the store's ({@code golden-images/NAME}). A relative URL resolves against the control
 * plane's URL. The device's credential is sent only to the control plane's own origin, never to another host a URL
 * names (a presigned S3 URL carries its own authorisation in its query); a URL that is neither https nor http to a
 * loopback address is refused, as the credential or the payload would travel in clear.
 */
public final class ControlPlaneReleases {
    private final HttpControlPlane controlPlane;
    private final Supplier<Optional<Secret>> credential;

    /** @param credential the device's credential as the agent holds it now (empty before enrollment) */
    public ControlPlaneReleases(HttpControlPlane controlPlane, Supplier<Optional<Secret>> credential) {
        this.controlPlane = requireNonNull(controlPlane, "controlPlane");
        this.credential = requireNonNull(credential, "credential");
    }

    /** The files of the release a poll answer named. */
    public ArtifactStore store(ReleaseDownload download) {
        return storeOf(List.of(download));
    }

    /** The files of {@code versions}, their URLs asked of the control plane (the USB cache's known-good images). */
    public ArtifactStore store(List<ImageVersion> versions) {
        Secret secret = credential.get().orElseThrow(() -> IngotException.tried(ErrorCode.UNAVAILABLE, "find releases " + versions,
                "the device is not enrolled yet").withHint("the agent enrolls first; this is retried on a later poll"));
        return storeOf(versions.stream().map(version -> controlPlane.release(secret, version).download()).toList());
    }

    private ArtifactStore storeOf(List<ReleaseDownload> downloads) {
        URI base = controlPlane.base();
        Map<String, URI> urls = new LinkedHashMap<>();
        for (ReleaseDownload download : downloads) {
            download.files().forEach((name, url) -> urls.put(ReleaseFiles.STORE_FOLDER + name, checked(base, name, url)));
        }
        String description = base + " (releases " + String.join(", ", downloads.stream().map(each -> each.version().toString()).toList()) + ")";
        return new HttpStore(controlPlane.http(), key -> Optional.ofNullable(urls.get(key)), description, HttpStore.STALL_TIMEOUT,
                uri -> HttpControlPlane.sameOrigin(uri, base) ? credential.get().map(secret -> Map.of("Authorization", "Bearer "
                        + secret.reveal())).orElse(Map.of()) : Map.of());
    }

    /** {@code url} resolved against the control plane; refused unless https, or http to a loopback address. */
    static URI checked(URI base, String name, URI url) {
        // RFC 3986 §5.2: an absolute URL stays as it is, "/api/…" takes the control plane's origin, "api/…" its path too.
        URI resolved = URI.create(base + "/").resolve(url);
        String problem = null;
        if (resolved.getRawUserInfo() != null) {
            problem = "it has a user in it";
        } else if (resolved.getHost() == null) {
            problem = "it has no host";
        } else if ("http".equalsIgnoreCase(resolved.getScheme())) {
            if (!loopback(resolved.getHost())) {
                problem = "it is plain http to another machine";
            }
        } else if (!"https".equalsIgnoreCase(resolved.getScheme())) {
            problem = "it is neither https nor http";
        }
        if (problem != null) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "download " + name, "the control plane named the URL " + resolved.getScheme()
                    + "://" + resolved.getHost() + "/…, and " + problem).withHint("the control plane's download URLs must be https");
        }
        return resolved;
    }

    private static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
