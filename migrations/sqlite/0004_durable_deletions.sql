-- Account deletions asked for and not finished (see the PostgreSQL migration of the same name).
CREATE TABLE IF NOT EXISTS account_deletions (
    user_id       TEXT PRIMARY KEY,
    requested_at  TEXT NOT NULL,
    confirmed_at  TEXT
);

-- What each Idempotency-Key was used for (SHA-256 of the request).
ALTER TABLE idempotency_keys ADD COLUMN request_hash TEXT;
