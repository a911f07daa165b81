package dev.ingot.registry;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Amazon ECR private registry, recognised by its host name: {@code ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com}
 * (or {@code .amazonaws.com.cn} in the China regions), as the ECR user guide's "Private registry concepts" gives it.
 */
public record EcrRegistry(String host, String accountId, String region) {
    private static final Pattern HOST = Pattern.compile("([0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?");

    public EcrRegistry {
        requireNonNull(host, "host");
        requireNonNull(accountId, "accountId");
        requireNonNull(region, "region");
    }

    /** The ECR registry of a repository reference's host ({@code HOST/path}), if it is one. */
    public static Optional<EcrRegistry> of(String repository) {
        int slash = repository.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        String host = repository.substring(0, slash);
        Matcher matcher = HOST.matcher(host);
        return matcher.matches() ? Optional.of(new EcrRegistry(host, matcher.group(1), matcher.group(2))) : Optional.empty();
    }
}
