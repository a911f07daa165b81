package dev.ingot.server.fleet;

import static java.util.Objects.requireNonNull;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import dev.ingot.fleet.DesiredState;
import dev.ingot.health.DeviceId;
import dev.ingot.health.HealthStatus;
import dev.ingot.image.ImageVersion;
import dev.ingot.site.SiteId;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;

/** Reading the inventory: devices, their latest report and its history. */
public final class Devices {
    static final String COLUMNS = "d.id, d.site_id, d.enrolled_at, d.last_seen_at, d.status, d.image_version, d.container_tag, "
            + "d.slot_booted, d.reboot_required, d.security_updates, d.report_checked_at, s.generation, s.image_version AS desired_image, "
            + "s.container_tag AS desired_tag, s.reboot_request, s.known_good, s.updated_at AS desired_updated_at, "
            + "s.updated_by AS desired_updated_by, d.revoked_at, d.removed_at";
    static final String FROM = " FROM devices d JOIN desired_states s ON s.device_id = d.id";
    /** The condition on {@code d} of every fleet view (lists, counts, metrics, rollout plans): a removed device is not in the fleet. */
    public static final String IN_FLEET = "d.removed_at IS NULL";

    /** One kept report, its JSON as the device sent it. */
    public record StoredReport(DeviceId device, long seq, Instant receivedAt, String report) {}

    private final Jdbi jdbi;
    private final Clock clock;

    public Devices(Jdbi jdbi, Clock clock) {
        this.jdbi = requireNonNull(jdbi, "jdbi");
        this.clock = requireNonNull(clock, "clock");
    }

    public List<Device> list(DeviceFilter filter, int limit) {
        DeviceFilter.Sql sql = filter.sql(clock.instant());
        return jdbi.withHandle(handle -> {
            Query query = handle.createQuery("SELECT " + COLUMNS + FROM + sql.where() + " ORDER BY d.site_id, d.id LIMIT :limit")
                    .bind("limit", limit);
            sql.binds().forEach(query::bind);
            return query.map((rs, ctx) -> device(rs)).list();
        });
    }

    public long count(DeviceFilter filter) {
        DeviceFilter.Sql sql = filter.sql(clock.instant());
        return jdbi.withHandle(handle -> {
            Query query = handle.createQuery("SELECT COUNT(*) FROM devices d" + sql.where());
            sql.binds().forEach(query::bind);
            return query.mapTo(Long.class).one();
        });
    }

    /** A device by id, removed ones too (its detail page shows when and by whom). */
    public Optional<Device> find(DeviceId id) {
        return jdbi.withHandle(handle -> findAny(handle, id));
    }

    public Device get(DeviceId id) {
        return find(id).orElseThrow(() -> notFound(id));
    }

    public Optional<StoredReport> latestReport(DeviceId id) {
        return jdbi.withHandle(handle -> handle.createQuery("SELECT received_at, report FROM latest_reports WHERE device_id = :id")
                .bind("id", id.value())
                .map((rs, ctx) -> new StoredReport(id, 0, Instant.ofEpochMilli(rs.getLong("received_at")), ReportText.read(rs.getString("report"))))
                .findFirst());
    }

    /** The kept reports, newest first. */
    public List<StoredReport> history(DeviceId id, int limit) {
        return jdbi.withHandle(handle -> handle.createQuery(
                        "SELECT seq, received_at, report FROM report_history WHERE device_id = :id ORDER BY seq DESC LIMIT :limit")
                .bind("id", id.value()).bind("limit", limit)
                .map((rs, ctx) -> new StoredReport(id, rs.getLong("seq"), Instant.ofEpochMilli(rs.getLong("received_at")),
                        ReportText.read(rs.getString("report"))))
                .list());
    }

    /** Every device of the fleet (removed ones are not), sorted by id, read inside the caller's transaction (the rollout planner's fleet snapshot). */
    public static List<Device> all(Handle handle) {
        return handle.createQuery("SELECT " + COLUMNS + FROM + " WHERE " + IN_FLEET + " ORDER BY d.id").map((rs, ctx) -> device(rs)).list();
    }

    /** A device of the fleet by id (a removed one is not found). */
    static Optional<Device> find(Handle handle, DeviceId id) {
        return handle.createQuery("SELECT " + COLUMNS + FROM + " WHERE d.id = :id AND " + IN_FLEET).bind("id", id.value())
                .map((rs, ctx) -> device(rs)).findFirst();
    }

    /** A device by id, removed ones too. */
    static Optional<Device> findAny(Handle handle, DeviceId id) {
        return handle.createQuery("SELECT " + COLUMNS + FROM + " WHERE d.id = :id").bind("id", id.value())
                .map((rs, ctx) -> device(rs)).findFirst();
    }

    static IngotException notFound(DeviceId id) {
        return IngotException.tried(ErrorCode.NOT_FOUND, "find the device " + id, "no enrolled device has that id")
                .withHint("ingot device list shows the devices");
    }

    static Device device(ResultSet rs) throws SQLException {
        return new Device(new DeviceId(rs.getString("id")), new SiteId(rs.getString("site_id")), Instant.ofEpochMilli(rs.getLong("enrolled_at")),
                instant(rs, "last_seen_at"), reported(rs), desired(rs), Instant.ofEpochMilli(rs.getLong("desired_updated_at")),
                rs.getString("desired_updated_by"), instant(rs, "revoked_at"), instant(rs, "removed_at"));
    }

    static Device.Reported reported(ResultSet rs) throws SQLException {
        String status = rs.getString("status");
        boolean reboot = rs.getBoolean("reboot_required");
        Optional<Boolean> rebootRequired = rs.wasNull() ? Optional.empty() : Optional.of(reboot);
        long security = rs.getLong("security_updates");
        OptionalLong securityUpdates = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(security);
        return new Device.Reported(Optional.ofNullable(status).map(value -> HealthStatus.valueOf(value.toUpperCase(Locale.ROOT))),
                Optional.ofNullable(rs.getString("image_version")), Optional.ofNullable(rs.getString("container_tag")),
                Optional.ofNullable(rs.getString("slot_booted")), rebootRequired, securityUpdates, instant(rs, "report_checked_at"));
    }

    static DesiredState desired(ResultSet rs) throws SQLException {
        return new DesiredState(rs.getLong("generation"), Optional.ofNullable(rs.getString("desired_image")).map(ImageVersion::parse),
                Optional.ofNullable(rs.getString("desired_tag")), Optional.ofNullable(rs.getString("reboot_request")),
                knownGood(rs.getString("known_good")));
    }

    static List<ImageVersion> knownGood(String text) {
        return text.isEmpty() ? List.of() : Arrays.stream(text.split(",")).map(ImageVersion::parse).toList();
    }

    static String knownGood(List<ImageVersion> versions) {
        return String.join(",", versions.stream().map(ImageVersion::toString).toList());
    }

    static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(value));
    }
}
