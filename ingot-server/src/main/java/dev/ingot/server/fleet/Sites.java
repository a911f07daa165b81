package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.health.DeviceId;
import dev.ingot.server.audit.AuditLog;
import dev.ingot.server.auth.Caller;
import dev.ingot.server.auth.Tokens;
import dev.ingot.site.SiteId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import dev.ingot.server.db.Database;
import org.jdbi.v3.core.Jdbi;

/** Sites and their enrollment tokens. */
public final class Sites {
    private static final Pattern TAG = Pattern.compile("[a-z0-9][a-z0-9._:-]{0,62}");
    /** The longest an enrollment token may live: provisioning a site rarely takes longer than a month. */
    public static final Duration MAX_ENROLLMENT_LIFETIME = Duration.ofDays(30);

    /** A new enrollment token: the secret is shown once and never stored. */
    public record EnrollmentToken(String id, SiteId site, Instant expiresAt, String token) {}

    private final Database database;
    private final Jdbi jdbi;
    private final AuditLog audit;
    private final Clock clock;

    public Sites(Database database, AuditLog audit, Clock clock) {
        this.database = requireNonNull(database, "database");
        this.jdbi = database.jdbi();
        this.audit = requireNonNull(audit, "audit");
        this.clock = requireNonNull(clock, "clock");
    }

    public Site add(SiteId id, String name, boolean canary, List<String> tags, Caller.Operator by) {
        String checkedName = checkName(name, id);
        List<String> checkedTags = checkTags(tags);
        Site site = new Site(id, checkedName, canary, checkedTags, Instant.ofEpochMilli(clock.millis()));
        database.useTransaction(handle -> {
            if (find(handle, id).isPresent()) {
                throw IngotException.tried(ErrorCode.CONFLICT, "add the site " + id, "it exists already")
                        .withHint("ingot site show " + id + " shows it");
            }
            handle.createUpdate("INSERT INTO sites (id, name, canary, created_at) VALUES (:id, :name, :canary, :createdAt)")
                    .bind("id", id.value()).bind("name", site.name()).bind("canary", canary).bind("createdAt", site.createdAt().toEpochMilli())
                    .execute();
            for (String tag : checkedTags) {
                handle.createUpdate("INSERT INTO site_tags (site_id, tag) VALUES (:site, :tag)").bind("site", id.value()).bind("tag", tag).execute();
            }
            audit.record(handle, by, "site.add", "site:" + id, null, describe(site));
        });
        return site;
    }

    public Optional<Site> find(SiteId id) {
        return jdbi.withHandle(handle -> find(handle, id));
    }

    public Site get(SiteId id) {
        return find(id).orElseThrow(() -> notFound(id));
    }

    /** Every site, sorted by id, optionally only those with a tag. */
    public List<Site> list(Optional<String> tag) {
        tag.ifPresent(value -> checkTag(value, "list the sites tagged '" + value + "'"));
        return jdbi.withHandle(handle -> {
            Map<String, List<String>> tags = new TreeMap<>();
            handle.createQuery("SELECT site_id, tag FROM site_tags ORDER BY site_id, tag")
                    .map((rs, ctx) -> Map.entry(rs.getString("site_id"), rs.getString("tag")))
                    .forEach(entry -> tags.computeIfAbsent(entry.getKey(), key -> new ArrayList<>()).add(entry.getValue()));
            return handle.createQuery("SELECT id, name, canary, created_at FROM sites ORDER BY id")
                    .map((rs, ctx) -> new Site(new SiteId(rs.getString("id")), rs.getString("name"), rs.getBoolean("canary"),
                            tags.getOrDefault(rs.getString("id"), List.of()), Instant.ofEpochMilli(rs.getLong("created_at"))))
                    .list().stream()
                    .filter(site -> tag.isEmpty() || site.tags().contains(tag.get()))
                    .toList();
        });
    }

    /**
     * A one-time enrollment token for the site, valid for {@code lifetime}; with {@code device}, made for that machine id only
     * (a device registered ahead of its first boot, or a simulated one): it enrolls that device new, or re-enrolls it.
     */
    public EnrollmentToken createEnrollmentToken(SiteId id, Optional<DeviceId> device, Duration lifetime, Caller.Operator by) {
        checkLifetime(id, lifetime);
        String token = Tokens.newToken(Tokens.ENROLLMENT_PREFIX);
        String tokenId = UUID.randomUUID().toString();
        Instant now = Instant.ofEpochMilli(clock.millis());
        Instant expires = now.plus(lifetime);
        database.useTransaction(handle -> {
            if (find(handle, id).isEmpty()) {
                throw notFound(id);
            }
            if (device.isPresent()) {
                Optional<String> enrolledAt = handle.createQuery("SELECT site_id FROM devices WHERE id = :id").bind("id", device.get().value())
                        .mapTo(String.class).findFirst();
                if (enrolledAt.isPresent() && !enrolledAt.get().equals(id.value())) {
                    throw IngotException.tried(ErrorCode.CONFLICT, "make an enrollment token for " + device.get() + " at " + id,
                            "the device is enrolled at " + enrolledAt.get()).withHint("a device moves between sites by re-imaging (a new machine id)");
                }
            }
            insertToken(handle, token, tokenId, id, device, now, expires, by);
            Map<String, Object> after = new LinkedHashMap<>();
            after.put("token_id", tokenId);
            after.put("expires_at", expires.toString());
            device.ifPresent(value -> after.put("device_id", value.value()));
            audit.record(handle, by, "site.enroll", "site:" + id, null, after);
        });
        return new EnrollmentToken(tokenId, id, expires, token);
    }

    static void checkLifetime(Object subject, Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_ENROLLMENT_LIFETIME) > 0) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "make an enrollment token for " + subject,
                    "its lifetime " + lifetime + " is not between a second and " + MAX_ENROLLMENT_LIFETIME.toDays() + " days");
        }
    }

    /** Stores an enrollment token's hash, never the token. */
    static void insertToken(Handle handle, String token, String tokenId, SiteId site, Optional<DeviceId> device, Instant now, Instant expires,
            Caller.Operator by) {
        handle.createUpdate("INSERT INTO enrollment_tokens (token_hash, id, site_id, created_at, expires_at, created_by, device_id) "
                        + "VALUES (:hash, :id, :site, :createdAt, :expiresAt, :createdBy, :device)")
                .bind("hash", Tokens.hash(token)).bind("id", tokenId).bind("site", site.value())
                .bind("createdAt", now.toEpochMilli()).bind("expiresAt", expires.toEpochMilli()).bind("createdBy", by.name())
                .bind("device", device.map(DeviceId::value).orElse(null))
                .execute();
    }

    static IngotException notFound(SiteId id) {
        return IngotException.tried(ErrorCode.NOT_FOUND, "find the site " + id, "no site has that id")
                .withHint("ingot site list shows the sites; ingot site add " + id + " adds it");
    }

    static Optional<Site> find(Handle handle, SiteId id) {
        List<String> tags = handle.createQuery("SELECT tag FROM site_tags WHERE site_id = :id ORDER BY tag").bind("id", id.value())
                .mapTo(String.class).list();
        return handle.createQuery("SELECT id, name, canary, created_at FROM sites WHERE id = :id").bind("id", id.value())
                .map((rs, ctx) -> new Site(id, rs.getString("name"), rs.getBoolean("canary"), tags, Instant.ofEpochMilli(rs.getLong("created_at"))))
                .findFirst();
    }

    private static String checkName(String name, SiteId id) {
        String value = name == null || name.isBlank() ? id.value() : name.strip();
        if (value.length() > 200 || value.chars().anyMatch(Character::isISOControl)) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "name the site " + id, "a name is up to 200 printable characters");
        }
        return value;
    }

    /** A tag as sites carry it; a filter by a tag no site could carry is bad input too (it would reach SQL otherwise). */
    public static String checkTag(String tag, String attempt) {
        if (tag == null || !TAG.matcher(tag).matches()) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, attempt,
                    "a tag is 1 to 63 lowercase letters, digits, '.', '_', ':' and '-'").withHint("write tags like region:eu-west or pilot");
        }
        return tag;
    }

    private static List<String> checkTags(List<String> tags) {
        TreeSet<String> checked = new TreeSet<>();
        for (String tag : tags) {
            checked.add(checkTag(tag, "tag a site with '" + tag + "'"));
        }
        if (checked.size() > 20) {
            throw IngotException.tried(ErrorCode.BAD_INPUT, "tag a site", "a site has at most 20 tags");
        }
        return List.copyOf(checked);
    }

    private static Map<String, Object> describe(Site site) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", site.id().value());
        map.put("name", site.name());
        map.put("canary", site.canary());
        map.put("tags", site.tags());
        return map;
    }
}
