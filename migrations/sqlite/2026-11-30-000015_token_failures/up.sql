-- Failed client authentications at the token endpoint, per subject (an address or a client id)
-- and minute: the failure limit holds across every instance on the database, so a flood spread
-- over a balancer's instances is limited as one (issue 20).
CREATE TABLE token_failures (
    subject      TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (subject, window_start)
);
CREATE INDEX token_failures_window ON token_failures (window_start);
