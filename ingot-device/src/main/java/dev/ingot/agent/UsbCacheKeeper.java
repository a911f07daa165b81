package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.cache.UsbCache;
import dev.ingot.image.ImageName;
import dev.ingot.image.ImageVersion;
import dev.ingot.image.ReleaseFiles;
import dev.ingot.progress.Progress;
import dev.ingot.sign.Keyring;
import dev.ingot.store.ArtifactStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The site's USB cache kept by the agent through {@link UsbCache#keep}, the one cache logic ({@code ingot cache sync}
 * uses it too): every release the control plane names known-good fetched and fully verified against the image's
 * keyring before an older one is removed. On a device the releases come through the control plane's downloads
 * ({@link ControlPlaneReleases}; the device holds no store credentials), which serve no signed known-good list, so the
 * control plane's list decides which images are kept; the keyring still decides what is trusted.
 */
public final class UsbCacheKeeper implements CacheKeeper {
    private final Path folder;
    private final ImageName name;
    private final Supplier<Keyring> keyring;
    private final Function<List<ImageVersion>, ArtifactStore> releases;
    private final Progress progress;

    /**
     * @param keyring the keyring baked into the image, read when the cache is filled
     * @param releases where the named releases come from: on a device, the control plane's downloads
     */
    public UsbCacheKeeper(Path folder, ImageName name, Supplier<Keyring> keyring, Function<List<ImageVersion>, ArtifactStore> releases,
            Progress progress) {
        this.folder = requireNonNull(folder, "folder");
        this.name = requireNonNull(name, "name");
        this.keyring = requireNonNull(keyring, "keyring");
        this.releases = requireNonNull(releases, "releases");
        this.progress = requireNonNull(progress, "progress");
    }

    @Override
    public List<ImageVersion> cached() {
        return cachedIn(folder, name);
    }

    /** The versions of {@code name} a USB cache folder holds, newest first; none when the folder is not there. */
    static List<ImageVersion> cachedIn(Path folder, ImageName name) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        return UsbCache.releasesIn(folder).stream().filter(release -> release.name().equals(name)).map(ReleaseFiles::version)
                .sorted(Comparator.reverseOrder()).toList();
    }

    @Override
    public void keep(List<ImageVersion> versions) {
        if (versions.isEmpty()) {
            return;
        }
        try (ArtifactStore store = releases.apply(versions)) {
            new UsbCache(folder, keyring.get(), progress).keep(store, name, versions);
        }
    }
}
