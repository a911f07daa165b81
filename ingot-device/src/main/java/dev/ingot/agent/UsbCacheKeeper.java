package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.cache.UsbCache;
import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
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

/**
 * The site's USB cache kept by the agent through {@link UsbCache}, the one cache logic ({@code ingot cache sync}):
 * every release fetched and fully verified before an older one is removed. {@code UsbCache} takes the known-good
 * list from the store's signed document; the control plane names the same list in the desired state, and a
 * difference between the two is reported rather than papered over.
 */
public final class UsbCacheKeeper implements CacheKeeper {
    private final Path folder;
    private final ImageName name;
    private final Keyring keyring;
    private final ArtifactStore store;
    private final Progress progress;

    /** @param store where releases come from: on a device, the control plane's downloads (no store credentials) */
    public UsbCacheKeeper(Path folder, ImageName name, Keyring keyring, ArtifactStore store, Progress progress) {
        this.folder = requireNonNull(folder, "folder");
        this.name = requireNonNull(name, "name");
        this.keyring = requireNonNull(keyring, "keyring");
        this.store = requireNonNull(store, "store");
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
        UsbCache.SyncResult result = new UsbCache(folder, keyring, progress).sync(store, name, versions.size());
        if (!result.wanted().equals(versions)) {
            throw IngotException.tried(ErrorCode.CONFLICT, "keep " + versions + " in the USB cache " + folder,
                    "the store's signed known-good list names " + result.wanted() + "; the cache now holds those")
                    .withHint("promote the same versions in the store (ingot image promote) as the control plane names");
        }
    }
}
