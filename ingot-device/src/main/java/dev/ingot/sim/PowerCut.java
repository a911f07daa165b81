package dev.ingot.sim;

/**
 * The simulated device lost power before {@code operation} took effect. Not an {@code IngotException}: nothing in
 * the agent may catch it, just as nothing survives a real power cut but what was already on the disk.
 */
public final class PowerCut extends RuntimeException {
    private final String operation;

    public PowerCut(String operation) {
        super("power cut before: " + operation, null, false, false);
        this.operation = operation;
    }

    public String operation() {
        return operation;
    }
}
