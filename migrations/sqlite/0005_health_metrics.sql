-- Health metrics beside food (see the PostgreSQL migration of the same name).

CREATE TABLE IF NOT EXISTS weight_entries (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    weight       REAL NOT NULL,
    body_fat     REAL,
    notes        TEXT,
    happened_at  TEXT NOT NULL,
    local_date   DATE NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS weight_entries_user_time ON weight_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS weight_entries_user_day ON weight_entries (user_id, local_date, happened_at, id);

CREATE TABLE IF NOT EXISTS weight_days (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    weigh_ins   INTEGER NOT NULL,
    weight_sum  REAL NOT NULL,
    trend       REAL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, local_date)
);

CREATE TABLE IF NOT EXISTS activity_entries (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    calories_burned   REAL NOT NULL,
    met               REAL,
    duration_minutes  INTEGER,
    notes             TEXT,
    happened_at       TEXT NOT NULL,
    local_date        DATE NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_entries_user_time ON activity_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS activity_entries_user_day ON activity_entries (user_id, local_date, happened_at, id);

CREATE TABLE IF NOT EXISTS activity_days (
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date       DATE NOT NULL,
    activities       INTEGER NOT NULL,
    calories_burned  REAL NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (user_id, local_date)
);

CREATE TABLE IF NOT EXISTS water_entries (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount       INTEGER NOT NULL,
    happened_at  TEXT NOT NULL,
    local_date   DATE NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS water_entries_user_time ON water_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS water_entries_user_day ON water_entries (user_id, local_date, happened_at, id);

CREATE TABLE IF NOT EXISTS water_days (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    drinks      INTEGER NOT NULL,
    amount_ml   INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, local_date)
);

CREATE TABLE IF NOT EXISTS user_totals (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    entries        INTEGER NOT NULL,
    calories       REAL NOT NULL,
    tracking_days  INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);
INSERT INTO user_totals (user_id, entries, calories, tracking_days, updated_at)
SELECT user_id, SUM(entries), SUM(calories), COUNT(*), MAX(updated_at)
  FROM daily_totals
 GROUP BY user_id;

ALTER TABLE user_preferences ADD COLUMN exercise_calories TEXT NOT NULL DEFAULT 'none';
ALTER TABLE user_preferences ADD COLUMN water_goal INTEGER NOT NULL DEFAULT 2000;
