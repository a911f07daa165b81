package dev.ingot.progress;

/** Reports progress of long work; the CLI draws a bar on a terminal, everything else ignores it. */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void start(String phase, long totalUnits) {}

        @Override
        public void advance(long units) {}

        @Override
        public void done() {}
    };

    /** A new phase begins; {@code totalUnits} is in bytes, or -1 when unknown. */
    void start(String phase, long totalUnits);

    /** Adds {@code units} to what the current phase has done; may be called from any thread. */
    void advance(long units);

    void done();
}
