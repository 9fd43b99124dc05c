-- The embedded local database: the same tables and columns as the PostgreSQL schema, in
-- SQLite's types. Instants are RFC 3339 text in UTC (ordered as text, since every instant is
-- written by the service at millisecond precision), dates are YYYY-MM-DD text, amounts REAL,
-- and the PostgreSQL array and JSONB columns are JSON text.

CREATE TABLE IF NOT EXISTS users (
    id               TEXT PRIMARY KEY,
    email            TEXT UNIQUE NOT NULL,
    name             TEXT,
    created_at       TEXT NOT NULL,
    profile_picture  TEXT
);

CREATE TABLE IF NOT EXISTS user_preferences (
    user_id                TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    dietary_restrictions   TEXT,
    nutrition_goals        TEXT,
    notifications_enabled  BOOLEAN DEFAULT TRUE,
    timezone               TEXT NOT NULL DEFAULT 'UTC',
    created_at             TEXT NOT NULL,
    updated_at             TEXT
);

CREATE TABLE IF NOT EXISTS user_onboarding_data (
    user_id            TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    age                INTEGER,
    gender             TEXT,
    height_cm          REAL,
    current_weight_kg  REAL,
    target_weight_kg   REAL,
    fitness_goal       TEXT,
    activity_level     TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT
);

CREATE TABLE IF NOT EXISTS food_entries (
    id            TEXT PRIMARY KEY,
    user_id       TEXT REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    calories      REAL NOT NULL,
    meal_type     TEXT NOT NULL,
    serving_size  TEXT,
    protein       REAL,
    carbs         REAL,
    fat           REAL,
    notes         TEXT,
    created_at    TEXT NOT NULL,
    eaten_at      TEXT NOT NULL,
    local_date    DATE NOT NULL,
    image_key     TEXT,
    updated_at    TEXT
);
CREATE INDEX IF NOT EXISTS food_entries_user_eaten_at ON food_entries (user_id, eaten_at, id);
CREATE INDEX IF NOT EXISTS food_entries_user_local_date ON food_entries (user_id, local_date, eaten_at, id);

CREATE TABLE IF NOT EXISTS user_badges (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            TEXT REFERENCES users(id) ON DELETE CASCADE,
    badge_id           TEXT NOT NULL,
    badge_name         TEXT NOT NULL,
    badge_description  TEXT,
    earned_at          TEXT NOT NULL,
    UNIQUE (user_id, badge_id)
);
CREATE INDEX IF NOT EXISTS user_badges_user_earned_at ON user_badges (user_id, earned_at, id);

CREATE TABLE IF NOT EXISTS daily_totals (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    entries     INTEGER NOT NULL,
    calories    REAL NOT NULL,
    protein     REAL NOT NULL,
    carbs       REAL NOT NULL,
    fat         REAL NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, local_date)
);
CREATE INDEX IF NOT EXISTS daily_totals_updated_at ON daily_totals (updated_at, user_id);

CREATE TABLE IF NOT EXISTS images (
    bucket        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    content_type  TEXT NOT NULL,
    size_bytes    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key)
);
CREATE INDEX IF NOT EXISTS images_user_id ON images (user_id);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL,
    response_status  INTEGER,
    response_body    TEXT,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE IF NOT EXISTS job_cursors (
    job             TEXT PRIMARY KEY,
    position        TEXT,
    run_started_at  TEXT,
    updated_at      TEXT NOT NULL
);
