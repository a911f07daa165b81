package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.provision.AtomicFiles;
import dev.ingot.store.WorkFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/** The agent's state in one JSON file, mode 0600 (the device's credential is in it), replaced atomically. */
public final class FileStateStore implements StateStore {
    /** On the data partition, which both root slots mount at /data. */
    public static final String PATH = "/data/ingot/agent/state.json";

    private final Path file;

    public FileStateStore(Path file) {
        this.file = requireNonNull(file, "file");
    }

    @Override
    public AgentState load() {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !WorkFolder.isPlainFile(file)) {
            // A link planted in its place (to /dev/zero, a FIFO, another device's state): never followed, never read.
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the agent state " + file, "it is a link or not a regular file")
                    .withHint("the agent stops rather than guess where an update stood: keep it for diagnosis and see docs/agent.md, "
                            + "\"When the state file is damaged\"");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return AgentState.initial();
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the agent state " + file, String.valueOf(e.getMessage()))
                    .withHint("is the data partition mounted at /data?").withCause(e);
        }
        return AgentStateJson.parse(bytes, file.toString());
    }

    @Override
    public void save(AgentState state) {
        try {
            AtomicFiles.replace(file, AgentStateJson.write(state), Optional.of(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "save the agent state " + file, String.valueOf(e.getMessage()))
                    .withHint("is the data partition mounted read-write at /data, with space left?").withCause(e);
        }
    }
}
