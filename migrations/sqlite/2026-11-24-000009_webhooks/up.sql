-- Webhook subscriptions: a unit's admin asks for events of its subtree at a URL.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY NOT NULL,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    url         TEXT NOT NULL,
    description TEXT,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active','disabled')),
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1)
);
CREATE INDEX webhooks_unit ON webhooks (unit_id, created_at, id);

-- The outbox: one row an event, written in the transaction of the change it reports, so no
-- event is lost and none is sent for a change that rolled back. seq orders events.
CREATE TABLE webhook_events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    event_type    TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    unit_id       TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

-- One delivery of one event to one subscription, retried with backoff until it succeeds or the
-- schedule (over 24 h) runs out.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    webhook_id      TEXT NOT NULL REFERENCES webhooks(id),
    event_seq       BIGINT NOT NULL REFERENCES webhook_events(seq),
    resource_id     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, resource_id, event_seq);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at, id);
