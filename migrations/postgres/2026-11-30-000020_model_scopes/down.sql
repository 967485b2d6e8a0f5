DROP TABLE model_scopes;
