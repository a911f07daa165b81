package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.EdgeFiles;
import dev.ingot.provision.AtomicFiles;
import dev.ingot.site.VideoIngestUnit;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * The rolled-out tag as the {@code video-ingest} unit reads it: {@link VideoIngestUnit#TAG_OVERRIDE_PATH}, one
 * {@code VIDEO_INGEST_TAG=TAG} line in systemd's EnvironmentFile= format (systemd.exec(5)), on the data partition.
 */
public final class FileTagOverride implements TagOverride {
    private final Path file;

    public FileTagOverride(Path file) {
        this.file = requireNonNull(file, "file");
    }

    /** The override under a device root ({@code /} on the device). */
    public static FileTagOverride under(Path root) {
        return new FileTagOverride(root.resolve(VideoIngestUnit.TAG_OVERRIDE_PATH.substring(1)));
    }

    @Override
    public Optional<String> current() {
        try {
            String value = EdgeFiles.environment(Files.readString(file, StandardCharsets.UTF_8)).get(VideoIngestUnit.TAG_VARIABLE);
            return Optional.ofNullable(value).filter(tag -> !tag.isBlank());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the video-ingest tag override " + file, String.valueOf(e.getMessage()))
                    .withCause(e);
        }
    }

    @Override
    public void set(Optional<String> tag) {
        try {
            if (tag.isEmpty()) {
                AtomicFiles.remove(file);
                return;
            }
            String text = "# Written by the ingot agent: the video-ingest tag the control plane rolled out (docs/agent.md).\n"
                    + VideoIngestUnit.TAG_VARIABLE + "=" + DesiredState.checkTag(tag.get()) + "\n";
            AtomicFiles.replace(file, text.getBytes(StandardCharsets.UTF_8), Optional.of(PosixFilePermissions.fromString("rw-r--r--")));
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "write the video-ingest tag override " + file, String.valueOf(e.getMessage()))
                    .withHint("is the data partition mounted read-write at /data?").withCause(e);
        }
    }
}
