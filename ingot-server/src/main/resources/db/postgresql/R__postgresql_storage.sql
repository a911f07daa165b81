-- PostgreSQL only (Database.migrate adds this folder for PostgreSQL; the schema itself is db/migration, the same on both):
-- storage settings for the two rows every poll rewrites. Re-run by Flyway whenever this file changes; each is idempotent.

-- A device's latest report (about 5 KB) stays in its row uncompressed: by default PostgreSQL compresses and moves out
-- of line (TOAST) every value past 2 KB, which cost a poll's write three times the CPU of storing it as it is (measured
-- with pg_stat_statements, bench/RESULTS.md). A larger report is still compressed and moved out of line.
ALTER TABLE latest_reports SET (toast_tuple_target = 8160);

-- Room in each page for a device row's next version, so that a poll's update (no indexed column changes) is a HOT
-- update that touches none of the table's five indexes.
ALTER TABLE devices SET (fillfactor = 70);
