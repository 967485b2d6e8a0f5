DROP INDEX commendations_issuer;
DROP TABLE model_area_counts;
DROP TABLE model_counts;
