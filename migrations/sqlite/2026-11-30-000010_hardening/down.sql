ALTER TABLE audit_events DROP COLUMN client_request_id;
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    subject       TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending','done')),
    status        INTEGER,
    content_type  TEXT,
    headers       TEXT,
    body          TEXT,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (subject, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
