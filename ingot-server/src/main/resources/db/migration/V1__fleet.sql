-- The fleet inventory (DESIGN.md, "The fleet model"). Portable SQL that runs unchanged on SQLite and
-- PostgreSQL: ids are made in Java, times are epoch milliseconds in BIGINT, no SERIAL, AUTOINCREMENT or
-- TIMESTAMPTZ. Secrets (enrollment tokens, device credentials, operator tokens) are stored as the
-- SHA-256 hex of the token only.

CREATE TABLE sites (
    id          VARCHAR(63)  NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    canary      BOOLEAN      NOT NULL,
    created_at  BIGINT       NOT NULL
);

CREATE TABLE site_tags (
    site_id VARCHAR(63) NOT NULL REFERENCES sites (id),
    tag     VARCHAR(63) NOT NULL,
    PRIMARY KEY (site_id, tag)
);

-- One-time, expiring: a device trades one for its own credential; used_at is set exactly once.
CREATE TABLE enrollment_tokens (
    token_hash  VARCHAR(64)  NOT NULL PRIMARY KEY,
    id          VARCHAR(36)  NOT NULL UNIQUE,
    site_id     VARCHAR(63)  NOT NULL REFERENCES sites (id),
    created_at  BIGINT       NOT NULL,
    expires_at  BIGINT       NOT NULL,
    created_by  VARCHAR(100) NOT NULL,
    used_at     BIGINT,
    used_by     VARCHAR(32)
);

-- A device and a summary of its latest report, so that lists and filters never read a report.
CREATE TABLE devices (
    id                VARCHAR(32)  NOT NULL PRIMARY KEY,
    site_id           VARCHAR(63)  NOT NULL REFERENCES sites (id),
    credential_hash   VARCHAR(64)  NOT NULL UNIQUE,
    enrolled_at       BIGINT       NOT NULL,
    last_seen_at      BIGINT,
    status            VARCHAR(16),
    image_version     VARCHAR(64),
    container_tag     VARCHAR(128),
    slot_booted       VARCHAR(1),
    reboot_required   BOOLEAN,
    security_updates  BIGINT,
    report_checked_at BIGINT,
    history_seq       BIGINT       NOT NULL,
    history_at        BIGINT       NOT NULL
);
CREATE INDEX devices_site ON devices (site_id);
CREATE INDEX devices_image_version ON devices (image_version);

-- What each device should run (dev.ingot.fleet.DesiredState). Rollouts and operators write here only.
CREATE TABLE desired_states (
    device_id      VARCHAR(32)   NOT NULL PRIMARY KEY REFERENCES devices (id),
    generation     BIGINT        NOT NULL,
    image_version  VARCHAR(64),
    container_tag  VARCHAR(128),
    reboot_request VARCHAR(64),
    known_good     VARCHAR(1000) NOT NULL,
    updated_at     BIGINT        NOT NULL,
    updated_by     VARCHAR(100)  NOT NULL
);

CREATE TABLE latest_reports (
    device_id   VARCHAR(32) NOT NULL PRIMARY KEY REFERENCES devices (id),
    received_at BIGINT      NOT NULL,
    report      TEXT        NOT NULL
);

-- A bounded history per device: a report is kept when what the device runs or its status changed, or
-- when the last kept one is older than the history interval; the oldest beyond the bound are deleted.
CREATE TABLE report_history (
    device_id     VARCHAR(32) NOT NULL REFERENCES devices (id),
    seq           BIGINT      NOT NULL,
    received_at   BIGINT      NOT NULL,
    status        VARCHAR(16) NOT NULL,
    image_version VARCHAR(64),
    report        TEXT        NOT NULL,
    PRIMARY KEY (device_id, seq)
);

-- One attempt by a device to reach a generation on one track (dev.ingot.fleet.ActionState).
CREATE TABLE actions (
    id          VARCHAR(36)   NOT NULL PRIMARY KEY,
    device_id   VARCHAR(32)   NOT NULL REFERENCES devices (id),
    track       VARCHAR(16)   NOT NULL,
    generation  BIGINT        NOT NULL,
    target      VARCHAR(128)  NOT NULL,
    state       VARCHAR(16)   NOT NULL,
    reason      VARCHAR(1000),
    created_at  BIGINT        NOT NULL,
    updated_at  BIGINT        NOT NULL,
    created_by  VARCHAR(100)  NOT NULL,
    UNIQUE (device_id, track, generation)
);
CREATE INDEX actions_device_track ON actions (device_id, track, generation);

-- Every transition a device reported, in order (hawkBit's action status history).
CREATE TABLE action_events (
    action_id  VARCHAR(36)   NOT NULL REFERENCES actions (id),
    seq        BIGINT        NOT NULL,
    state      VARCHAR(16)   NOT NULL,
    reason     VARCHAR(1000),
    at         BIGINT        NOT NULL,
    PRIMARY KEY (action_id, seq)
);

CREATE TABLE operator_tokens (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    name        VARCHAR(100) NOT NULL UNIQUE,
    token_hash  VARCHAR(64)  NOT NULL UNIQUE,
    role        VARCHAR(16)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    created_by  VARCHAR(100) NOT NULL,
    revoked_at  BIGINT
);

-- Who (a token's name), what, when, before and after, for every operator write.
CREATE TABLE audit_log (
    id          VARCHAR(36)  NOT NULL PRIMARY KEY,
    at          BIGINT       NOT NULL,
    actor       VARCHAR(100) NOT NULL,
    action      VARCHAR(64)  NOT NULL,
    subject     VARCHAR(200) NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Leases: one holder at a time among replicas (the rollout engine's leader); taken and renewed by a
-- conditional UPDATE, so the database decides.
CREATE TABLE leases (
    name        VARCHAR(64)  NOT NULL PRIMARY KEY,
    holder      VARCHAR(100) NOT NULL,
    expires_at  BIGINT       NOT NULL
);
