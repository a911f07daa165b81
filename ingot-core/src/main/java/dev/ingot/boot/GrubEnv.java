package dev.ingot.boot;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A GRUB environment block ({@code grubenv}) as GRUB's {@code load_env} and {@code grub-editenv(1)} read it
 * (grub-core/lib/envblk.c): the signature line {@code # GRUB Environment Block}, then {@code name=value} lines in
 * which a backslash escapes the next character (grub-editenv writes {@code \\} for a backslash and a backslash
 * before a newline inside a value), and {@code #} padding up to its fixed size of 1024 bytes. Only read here:
 * writes go through the real {@code grub-editenv}.
 */
public record GrubEnv(Map<String, String> variables) {
    /** The size of the block grub-editenv creates; GRUB's save_env rewrites it in place and never grows it. */
    public static final int SIZE = 1024;
    static final String SIGNATURE = "# GRUB Environment Block\n";

    public GrubEnv {
        variables = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(variables, "variables")));
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(variables.get(name)).filter(value -> !value.isEmpty());
    }

    /** Parses a block; {@code source} names it in the error when it is not a GRUB environment block. */
    public static GrubEnv parse(byte[] block, String source) {
        requireNonNull(block, "block");
        String text = new String(block, StandardCharsets.UTF_8);
        if (block.length != SIZE || !text.startsWith(SIGNATURE)) {
            throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the GRUB environment " + source,
                            block.length != SIZE ? "it is " + block.length + " bytes, not " + SIZE
                                    : "it does not start with '" + SIGNATURE.strip() + "'")
                    .withHint("recreate it with grub-editenv " + source + " create, then set saved_entry (docs/agent.md)");
        }
        Map<String, String> variables = new LinkedHashMap<>();
        int position = SIGNATURE.length();
        while (position < text.length()) {
            if (text.charAt(position) == '#') {
                int end = text.indexOf('\n', position);
                position = end < 0 ? text.length() : end + 1;
                continue;
            }
            int equals = text.indexOf('=', position);
            int newline = text.indexOf('\n', position);
            if (equals < 0 || (newline >= 0 && newline < equals)) {
                throw IngotException.tried(ErrorCode.CHECK_FAILED, "read the GRUB environment " + source,
                        "a line at byte " + position + " is not name=value").withHint("recreate it with grub-editenv");
            }
            String name = text.substring(position, equals);
            StringBuilder value = new StringBuilder();
            int index = equals + 1;
            while (index < text.length() && text.charAt(index) != '\n') {
                char c = text.charAt(index);
                if (c == '\\' && index + 1 < text.length()) {
                    value.append(text.charAt(index + 1));
                    index += 2;
                } else {
                    value.append(c);
                    index++;
                }
            }
            variables.put(name, value.toString());
            position = index + 1;
        }
        return new GrubEnv(variables);
    }
}
