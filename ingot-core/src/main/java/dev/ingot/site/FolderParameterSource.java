package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Parameters kept as files, one per parameter, under the same paths as in the parameter store:
 * {@code ROOT/edge/SITE-2847/ntp_server} holds that parameter's value. The embedded default, for tests,
 * demos and sites without AWS.
 *
 * <ul>
 *   <li>A value is the file's UTF-8 text; one final line break (as {@code echo} writes) is not part of it.</li>
 *   <li>A file that others may not read ({@code chmod 600}) holds a SecureString: its value is never shown.</li>
 *   <li>Hidden files and editor backups ({@code .name}, {@code name~}) are not parameters.</li>
 * </ul>
 */
public final class FolderParameterSource implements ParameterSource {
    private final Path root;

    public FolderParameterSource(Path root) {
        this.root = requireNonNull(root, "root").toAbsolutePath().normalize();
    }

    @Override
    public String describe() {
        return "dir:" + root;
    }

    @Override
    public SortedMap<String, Parameter> readAll(String path) {
        requireNonNull(path, "path");
        if (!path.startsWith("/") || !path.endsWith("/")) {
            throw new IllegalArgumentException("a parameter path starts and ends with '/': " + path);
        }
        if (!Files.isDirectory(root)) {
            throw IngotException.tried(ErrorCode.UNAVAILABLE, "read the parameters under " + path + " from " + describe(),
                    "the folder " + root + " does not exist").withHint("check --params dir:PATH (a folder holding edge/SITE/…)");
        }
        Path folder = root.resolve(path.substring(1)).normalize();
        if (!folder.startsWith(root)) {
            throw new IllegalArgumentException("the path leaves the parameter folder: " + path);
        }
        SortedMap<String, Parameter> parameters = new TreeMap<>();
        if (!Files.isDirectory(folder)) {
            return Collections.unmodifiableSortedMap(parameters);
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            files = walk.filter(Files::isRegularFile).filter(file -> isParameter(folder.relativize(file))).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            throw unreadable(path, e instanceof UncheckedIOException unchecked ? unchecked.getCause() : (IOException) e);
        }
        for (Path file : files) {
            String name = folder.relativize(file).toString().replace('\\', '/');
            parameters.put(name, new Parameter(name, read(path + name, file), isSecure(file)));
        }
        return Collections.unmodifiableSortedMap(parameters);
    }

    private static boolean isParameter(Path relative) {
        for (Path part : relative) {
            String segment = part.toString();
            if (segment.startsWith(".") || segment.endsWith("~")) {
                return false;
            }
        }
        return true;
    }

    private String read(String name, Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw unreadable(name, e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the parameter " + name + " from " + describe(),
                    "the file " + file + " is not UTF-8 text").withHint("write the value as UTF-8 text");
        }
        if (text.endsWith("\r\n")) {
            return text.substring(0, text.length() - 2);
        }
        return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    }

    private static boolean isSecure(Path file) {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) {
            return false;
        }
        try {
            return !view.readAttributes().permissions().contains(PosixFilePermission.OTHERS_READ);
        } catch (IOException e) {
            return true; // cannot tell: keep the value out of sight
        }
    }

    private IngotException unreadable(String what, IOException cause) {
        String reason = cause instanceof AccessDeniedException denied ? "permission to read " + denied.getFile() + " was denied"
                : String.valueOf(cause.getMessage());
        return IngotException.tried(ErrorCode.UNAVAILABLE, "read " + what + " from " + describe(), reason).withCause(cause);
    }
}
