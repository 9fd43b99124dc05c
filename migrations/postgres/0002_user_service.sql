-- What this service adds to the previous schema. Nothing existing is dropped, renamed or
-- changed: columns are added (with defaults, which PostgreSQL 11+ adds without a table
-- rewrite) and the new ones are filled for the rows the old service wrote.

-- users: the key of the profile picture (an image the user uploaded to profile-pictures).
ALTER TABLE users ADD COLUMN IF NOT EXISTS profile_picture VARCHAR(255);

-- user_preferences: the IANA zone that decides the user's day.
ALTER TABLE user_preferences ADD COLUMN IF NOT EXISTS timezone VARCHAR(64) NOT NULL DEFAULT 'UTC';

-- food_entries: when the food was eaten (created_at stays "when it was logged"), the user's
-- calendar day of that instant in the zone of the time of writing, the image, the last edit.
ALTER TABLE food_entries ADD COLUMN IF NOT EXISTS eaten_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE food_entries ADD COLUMN IF NOT EXISTS local_date DATE;
ALTER TABLE food_entries ADD COLUMN IF NOT EXISTS image_key VARCHAR(255);
ALTER TABLE food_entries ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP WITH TIME ZONE;

-- The old service had no eaten-at time: its entries were eaten when logged, on their UTC day.
UPDATE food_entries
   SET eaten_at = COALESCE(eaten_at, created_at),
       local_date = COALESCE(local_date, (created_at AT TIME ZONE 'UTC')::date)
 WHERE eaten_at IS NULL OR local_date IS NULL;
ALTER TABLE food_entries ALTER COLUMN eaten_at SET NOT NULL;
ALTER TABLE food_entries ALTER COLUMN local_date SET NOT NULL;

-- Listing by time (and cursor paging on (eaten_at, id)), and filtering by the user's day.
CREATE INDEX IF NOT EXISTS food_entries_user_eaten_at ON food_entries (user_id, eaten_at, id);
CREATE INDEX IF NOT EXISTS food_entries_user_local_date ON food_entries (user_id, local_date, eaten_at, id);

-- One row per user and user's day with at least one entry, kept in the same transaction as
-- every entry write: summaries, trackingDays, totals and streaks read days, not entries, so
-- their cost does not grow with the number of entries.
CREATE TABLE IF NOT EXISTS daily_totals (
    user_id     VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    entries     INTEGER NOT NULL,
    calories    DECIMAL(14, 2) NOT NULL,
    protein     DECIMAL(14, 2) NOT NULL,
    carbs       DECIMAL(14, 2) NOT NULL,
    fat         DECIMAL(14, 2) NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (user_id, local_date)
);
INSERT INTO daily_totals (user_id, local_date, entries, calories, protein, carbs, fat, updated_at)
SELECT user_id, local_date, COUNT(*), SUM(calories), COALESCE(SUM(protein), 0),
       COALESCE(SUM(carbs), 0), COALESCE(SUM(fat), 0), MAX(created_at)
  FROM food_entries
 WHERE user_id IS NOT NULL
 GROUP BY user_id, local_date
ON CONFLICT (user_id, local_date) DO NOTHING;
-- The scheduled badge recalculation looks for recently written days.
CREATE INDEX IF NOT EXISTS daily_totals_updated_at ON daily_totals (updated_at, user_id);

-- Images uploaded through this service: who owns which key (imageKey and profilePicture
-- must name one of the caller's own).
CREATE TABLE IF NOT EXISTS images (
    bucket        VARCHAR(63) NOT NULL,
    object_key    VARCHAR(255) NOT NULL,
    user_id       VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_type  VARCHAR(100) NOT NULL,
    size_bytes    BIGINT NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (bucket, object_key)
);
CREATE INDEX IF NOT EXISTS images_user_id ON images (user_id);

-- Idempotency-Key of POST /food-entries: the first response, replayed for 24 hours.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id          VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idempotency_key  VARCHAR(255) NOT NULL,
    response_status  INTEGER,
    response_body    TEXT,
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);

-- Where a scheduled job stopped, so the next run resumes there.
CREATE TABLE IF NOT EXISTS job_cursors (
    job         VARCHAR(64) PRIMARY KEY,
    position    TEXT,
    run_started_at TIMESTAMP WITH TIME ZONE,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Badges are listed in the order earned.
CREATE INDEX IF NOT EXISTS user_badges_user_earned_at ON user_badges (user_id, earned_at, id);
