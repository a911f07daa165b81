-- Staged rollouts (docs/rollouts.md). Portable SQL as in V1: ids made in Java, times in epoch milliseconds.

-- One row per rollout: the whole rollout as dev.ingot.rollout.RolloutJson writes it (one column, stored with
-- UPDATE ... WHERE revision = the revision it was read at), and a few columns copied from it for lists.
CREATE TABLE rollouts (
    id            VARCHAR(40)   NOT NULL PRIMARY KEY,
    track         VARCHAR(16)   NOT NULL,
    target        VARCHAR(200)  NOT NULL,
    state         VARCHAR(16)   NOT NULL,
    active        BOOLEAN       NOT NULL,
    summary       VARCHAR(2000) NOT NULL,
    current_stage INTEGER,
    stages        INTEGER       NOT NULL,
    devices       INTEGER       NOT NULL,
    created_at    BIGINT        NOT NULL,
    created_by    VARCHAR(100)  NOT NULL,
    updated_at    BIGINT        NOT NULL,
    revision      BIGINT        NOT NULL,
    document      TEXT          NOT NULL
);
CREATE INDEX rollouts_active ON rollouts (active, created_at);

-- The devices an active rollout holds (every device of its plan until it is final). The primary key is the
-- device: two rollouts can never hold one device, whatever two replicas plan at the same moment.
CREATE TABLE rollout_holds (
    device_id  VARCHAR(32) NOT NULL PRIMARY KEY REFERENCES devices (id),
    rollout_id VARCHAR(40) NOT NULL REFERENCES rollouts (id),
    track      VARCHAR(16) NOT NULL
);
CREATE INDEX rollout_holds_rollout ON rollout_holds (rollout_id);

-- Every desired-state write a rollout made (dev.ingot.rollout.DesiredStateWrite#key) and the generation it
-- made: a key recorded here is never written again, and a device's progress is read from the action of
-- exactly this generation (never an older one, whose "committed" would be stale).
CREATE TABLE rollout_writes (
    write_key  VARCHAR(120) NOT NULL PRIMARY KEY,
    rollout_id VARCHAR(40)  NOT NULL REFERENCES rollouts (id),
    device_id  VARCHAR(32)  NOT NULL REFERENCES devices (id),
    kind       VARCHAR(8)   NOT NULL,
    generation BIGINT       NOT NULL,
    written_at BIGINT       NOT NULL
);
CREATE INDEX rollout_writes_rollout ON rollout_writes (rollout_id);

-- Operator commands (pause, resume, abort, rollback) waiting for the engine's next step, which takes them in
-- order and deletes them in the transaction that stores what they did.
CREATE TABLE rollout_commands (
    id         VARCHAR(36)  NOT NULL PRIMARY KEY,
    rollout_id VARCHAR(40)  NOT NULL REFERENCES rollouts (id),
    seq        BIGINT       NOT NULL,
    kind       VARCHAR(16)  NOT NULL,
    actor      VARCHAR(100) NOT NULL,
    at         BIGINT       NOT NULL,
    note       VARCHAR(500),
    UNIQUE (rollout_id, seq)
);
