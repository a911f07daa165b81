package dev.ingot.agent;

import java.time.Duration;

/** Waits between polls; tests and the simulated fleet advance a clock instead of waiting. */
@FunctionalInterface
public interface Sleeper {
    Sleeper SYSTEM = duration -> Thread.sleep(duration);

    void sleep(Duration duration) throws InterruptedException;
}
