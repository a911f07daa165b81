package dev.ingot.site;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container image reference with a tag, as {@code docker pull} takes it:
 * {@code 123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1}, optionally pinned by digest too
 * ({@code …:2.3.1@sha256:…}). Grammar: the distribution project's reference/regexp.go. A tag is required and
 * {@code latest} is refused: the container rollout track changes the tag, so a moving tag would change
 * what a device runs behind the rollout's back.
 */
public record ContainerImage(String repository, String tag, Optional<String> digest) {
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final String DOMAIN_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final String DOMAIN = DOMAIN_LABEL + "(?:\\." + DOMAIN_LABEL + ")*(?::[0-9]+)?";
    private static final Pattern REFERENCE = Pattern.compile(
            "((?:" + DOMAIN + "/)?" + COMPONENT + "(?:/" + COMPONENT + ")*)"
                    + "(?::([\\w][\\w.-]{0,127}))?"
                    + "(?:@(sha256:[0-9a-f]{64}))?");

    public ContainerImage {
        requireNonNull(repository, "repository");
        requireNonNull(tag, "tag");
        requireNonNull(digest, "digest");
    }

    public static ContainerImage parse(String text) {
        requireNonNull(text, "text");
        problemWith(text).ifPresent(problem -> {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "read the container image '" + text + "'", problem)
                    .withHint("write it like 123456789012.dkr.ecr.us-east-1.amazonaws.com/video-ingest:2.3.1");
        });
        Matcher matcher = REFERENCE.matcher(text);
        matcher.matches();
        return new ContainerImage(matcher.group(1), matcher.group(2), Optional.ofNullable(matcher.group(3)));
    }

    /** Why {@code text} is not an image reference with a fixed tag, or empty when it is one. */
    public static Optional<String> problemWith(String text) {
        Matcher matcher = REFERENCE.matcher(text);
        if (!matcher.matches()) {
            return Optional.of("it is not an image reference (REGISTRY/REPOSITORY:TAG, lowercase repository)");
        }
        if (matcher.group(1).length() > 255) {
            return Optional.of("the repository name is longer than 255 characters");
        }
        if (matcher.group(2) == null) {
            return Optional.of("it has no tag (add one, like :2.3.1)");
        }
        if (matcher.group(2).equals("latest")) {
            return Optional.of("'latest' moves: name a fixed tag, like :2.3.1");
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return repository + ":" + tag + digest.map(value -> "@" + value).orElse("");
    }
}
