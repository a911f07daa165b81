-- PostgreSQL only (Database.migrate adds this folder for PostgreSQL; the schema itself is db/migration, the same on both):
-- storage settings for the two rows every poll rewrites. Re-run by Flyway whenever this file changes; each is idempotent.

-- A device's latest report (stored zstd-compressed by the server, about 2.6 KB: fleet.ReportText) stays in its row as it
-- is: by default PostgreSQL tries to compress again and moves out of line (TOAST) every value past 2 KB, which cost a
-- poll's write three times the CPU of storing it as it is (measured with pg_stat_statements, bench/RESULTS.md). A larger
-- report is still moved out of line. Half of each page stays free, so that a poll's new version of the row fits beside
-- the old one: a HOT update, which needs no new page and no index entry.
ALTER TABLE latest_reports SET (toast_tuple_target = 8160, fillfactor = 50);

-- Room in each page for a device row's next version, so that a poll's update (no indexed column changes) is a HOT
-- update that touches none of the table's five indexes.
ALTER TABLE devices SET (fillfactor = 70);
