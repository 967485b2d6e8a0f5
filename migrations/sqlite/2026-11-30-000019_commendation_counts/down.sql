DROP TABLE commendation_counts;
