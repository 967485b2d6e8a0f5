DROP TABLE model_progress;
DROP TABLE model_special_areas;
DROP TABLE models;
