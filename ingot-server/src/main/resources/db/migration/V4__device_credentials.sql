-- Device credentials beyond the first enrollment (docs/api.md, "Re-enrollment, rotation, revocation"). Portable SQL as in V1;
-- SQLite's ALTER TABLE adds one column per statement.

-- An enrollment token made for one device (ingot device reenroll ID): only that machine id may use it, and it is the only
-- kind of token that re-enrolls a device the control plane knows. NULL: a site's token, for new devices only.
ALTER TABLE enrollment_tokens ADD COLUMN device_id VARCHAR(32);

-- Credential rotation: the new credential waits here until the device first uses it, and the old one works until then,
-- so an answer lost on the way never locks a device out. Unique like credential_hash: the lookup goes by it.
ALTER TABLE devices ADD COLUMN next_credential_hash VARCHAR(64);
CREATE UNIQUE INDEX devices_next_credential ON devices (next_credential_hash);

-- Revoked: no credential of the device opens anything until an operator lets it re-enroll. Removed: also gone from every
-- fleet view (lists, counts, rollouts to come); the row stays for the history, the audit log and the rollouts it was in.
ALTER TABLE devices ADD COLUMN revoked_at BIGINT;
ALTER TABLE devices ADD COLUMN revoked_by VARCHAR(100);
ALTER TABLE devices ADD COLUMN removed_at BIGINT;
ALTER TABLE devices ADD COLUMN removed_by VARCHAR(100);
