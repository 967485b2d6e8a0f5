-- The delta tables fill and empty all day (every write appends, every fold deletes). A VACUUM,
-- the folder's own `tidy` or autovacuum, would end by truncating their empty tail, and truncation
-- holds an ACCESS EXCLUSIVE lock: every report reads these tables, and waited behind it (the
-- national report's p99 at 82 ms and a request of 307 ms in the bench, with autovacuum cancelled
-- "while truncating relation model_area_count_deltas" in the server's log). The space freed would
-- be refilled within seconds, so it is not given back.
ALTER TABLE model_count_deltas SET (vacuum_truncate = false);
ALTER TABLE model_area_count_deltas SET (vacuum_truncate = false);
ALTER TABLE commendation_count_deltas SET (vacuum_truncate = false);
