package dev.ingot.agent;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;

/**
 * How long the agent gives each thing.
 *
 * @param commitWindow from the first look at a trial boot: healthy within it, or the device falls back
 * @param containerWindow from the restart onto a new tag: running and healthy within it, or the old tag comes back
 * @param rebootWindow from the first look after a requested reboot: healthy within it, or the request failed
 * @param recheck how often a check that did not pass yet is run again
 * @param retry the first wait after a download or pull that could not reach its source; it doubles each time
 * @param attempts how many times a download or pull is tried before the action fails
 * @param reboots how many reboots an A/B update may ask for before it gives up (a reboot that came before the
 *     one-shot boot was set is asked again)
 * @param pollRetry the wait after a poll that could not reach the control plane
 */
public record Timings(Duration commitWindow, Duration containerWindow, Duration rebootWindow, Duration recheck, Duration retry,
        int attempts, int reboots, Duration pollRetry) {
    public static final Timings DEFAULTS = new Timings(Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMinutes(10),
            Duration.ofSeconds(15), Duration.ofMinutes(1), 3, 3, Duration.ofSeconds(30));

    public Timings {
        requireNonNull(commitWindow, "commitWindow");
        requireNonNull(containerWindow, "containerWindow");
        requireNonNull(rebootWindow, "rebootWindow");
        requireNonNull(recheck, "recheck");
        requireNonNull(retry, "retry");
        requireNonNull(pollRetry, "pollRetry");
        if (attempts < 1 || reboots < 1) {
            throw new IllegalArgumentException("at least one attempt and one reboot");
        }
    }

    /**
     * Whether {@code deadline}, set {@code window} after some earlier now, lies further ahead than the window itself: the
     * wall clock went back since (NTP correcting a clock that ran fast, a dead RTC battery set right). Such a deadline is
     * set again from now, or a device would sit in a trial, a container check or a reboot check for as long as the clock
     * jumped. (A jump ahead only ends a window early, which a healthy change never notices: it passes at its first check.)
     */
    static boolean clockWentBack(Instant deadline, Instant now, Duration window) {
        return Duration.between(now, deadline).compareTo(window) > 0;
    }

    /** A window as a reason names it: whole minutes when it is some, else seconds ("10 min", "45 s"). */
    public static String describe(Duration window) {
        return window.toSeconds() >= 60 && window.toSeconds() % 60 == 0 ? window.toMinutes() + " min" : window.toSeconds() + " s";
    }
}
