-- Service accounts: scripts that authenticate with the OAuth 2.0 client-credentials grant. The
-- account is bound to a unit and roles; its tokens act as a user of that unit with those roles.
CREATE TABLE service_accounts (
    id          TEXT PRIMARY KEY NOT NULL,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    name        TEXT NOT NULL,
    description TEXT,
    roles       TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active','disabled')),
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     BIGINT NOT NULL CHECK (version >= 1)
);
CREATE INDEX service_accounts_unit ON service_accounts (unit_id, created_at, id);
CREATE INDEX service_accounts_created ON service_accounts (created_at, id);
CREATE INDEX service_accounts_updated ON service_accounts (updated_at, id);

-- Client secrets, stored as Argon2id hashes. Two may be valid at once while a script moves to a
-- new one; a rotated-out secret gets an expiry.
CREATE TABLE service_account_secrets (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES service_accounts(id),
    hash        TEXT NOT NULL,
    hint        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP
);
CREATE INDEX service_account_secrets_account ON service_account_secrets (account_id, created_at);
