package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.site.SiteId;
import java.time.Instant;
import java.util.List;

/** A site: one place with (usually) one device, named as the parameter store names it. */
public record Site(SiteId id, String name, boolean canary, List<String> tags, Instant createdAt) {
    public Site {
        requireNonNull(id, "id");
        requireNonNull(name, "name");
        tags = List.copyOf(tags);
        requireNonNull(createdAt, "createdAt");
    }
}
