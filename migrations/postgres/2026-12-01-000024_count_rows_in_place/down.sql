ALTER TABLE model_counts SET WITHOUT CLUSTER;
ALTER TABLE model_area_counts SET WITHOUT CLUSTER;
ALTER TABLE commendation_counts SET WITHOUT CLUSTER;
ALTER TABLE model_counts RESET (fillfactor);
ALTER TABLE model_area_counts RESET (fillfactor);
ALTER TABLE commendation_counts RESET (fillfactor);
CREATE INDEX model_counts_zero ON model_counts (scope_id) WHERE n = 0;
CREATE INDEX model_area_counts_zero ON model_area_counts (scope_id) WHERE n = 0;
CREATE INDEX commendation_counts_zero ON commendation_counts (scope_id) WHERE n = 0;
