DROP TABLE commendations;
