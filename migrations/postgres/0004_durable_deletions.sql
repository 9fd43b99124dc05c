-- Account deletions asked for and not finished. Written (and committed) before the Auth
-- Service is asked, so a deletion it confirms is finished even if the database fails right
-- after; the user's requests find them leaving from then on. No foreign key to users: the
-- record outlives the user's rows until the images are deleted too.
CREATE TABLE IF NOT EXISTS account_deletions (
    user_id       VARCHAR(36) PRIMARY KEY,
    requested_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    confirmed_at  TIMESTAMP WITH TIME ZONE
);

-- What each Idempotency-Key was used for (SHA-256 of the request), so that a key reused with
-- another request is refused rather than answered with the first response.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS request_hash VARCHAR(64);
