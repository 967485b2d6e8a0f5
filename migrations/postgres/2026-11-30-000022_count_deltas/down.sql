DROP INDEX commendation_counts_zero;
DROP INDEX model_area_counts_zero;
DROP INDEX model_counts_zero;
DROP TABLE commendation_count_deltas;
DROP TABLE model_area_count_deltas;
DROP TABLE model_count_deltas;
