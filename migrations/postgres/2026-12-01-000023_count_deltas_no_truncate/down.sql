ALTER TABLE model_count_deltas RESET (vacuum_truncate);
ALTER TABLE model_area_count_deltas RESET (vacuum_truncate);
ALTER TABLE commendation_count_deltas RESET (vacuum_truncate);
