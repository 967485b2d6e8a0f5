DROP TABLE commendation_count_deltas;
DROP TABLE model_area_count_deltas;
DROP TABLE model_count_deltas;
