package dev.ingot.health;

import dev.ingot.health.HealthReport.Updates;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pending updates as Ubuntu's update-notifier last counted them: {@code /var/lib/update-notifier/updates-available},
 * the text the login banner shows, refreshed by apt's periodic jobs. Reading it costs nothing, where counting
 * afresh ({@code apt-check}) takes seconds; the report says when it was counted. Wording (apt_check.py): "12
 * updates can be applied immediately." / "5 of these updates are standard security updates.", the singular
 * forms, and the older "12 packages can be updated." / "5 updates are security updates.".
 */
public final class UpdateNotifier {
    public static final String UPDATES_AVAILABLE = "/var/lib/update-notifier/updates-available";
    public static final String REBOOT_REQUIRED = "/var/run/reboot-required";
    public static final String REBOOT_REQUIRED_PACKAGES = "/var/run/reboot-required.pkgs";
    private static final Pattern PENDING = Pattern.compile("(?m)^\\s*([0-9]+) (?:updates? can be applied immediately|packages? can be updated)\\.");
    private static final Pattern SECURITY = Pattern.compile(
            "(?m)^\\s*([0-9]+) (?:of these updates (?:is a standard security update|are standard security updates)|updates? (?:is a|are) security updates?)\\.");

    private UpdateNotifier() {}

    public static Probed<Updates> parse(String text, Instant countedAt) {
        if (text.isBlank()) {
            return Probed.found(new Updates(0, 0, countedAt));
        }
        Matcher pending = PENDING.matcher(text);
        if (!pending.find()) {
            return Probed.failed(UPDATES_AVAILABLE + " does not say how many updates can be applied: '" + Excerpt.of(text.strip()) + "'");
        }
        Matcher security = SECURITY.matcher(text);
        long securityCount = security.find() ? Long.parseLong(security.group(1)) : 0;
        return Probed.found(new Updates(Long.parseLong(pending.group(1)), securityCount, countedAt));
    }
}
