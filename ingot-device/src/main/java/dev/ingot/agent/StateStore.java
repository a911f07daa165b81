package dev.ingot.agent;

/**
 * Where the agent's state lives between runs: a file on the data partition on a device ({@link FileStateStore}),
 * memory that outlives simulated reboots in the fleet simulation. A save is atomic: after a crash at any instant,
 * {@link #load} returns the state before the save or the state after it.
 */
public interface StateStore {
    /** The saved state; the initial state when nothing was ever saved. */
    AgentState load();

    void save(AgentState state);
}
