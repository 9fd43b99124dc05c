-- Faster logging: the user's foods (recent and frequent) and saved meals.

-- Entries by food: a food is its name, trimmed and without regard to case (SQLite's lower()
-- folds ASCII letters), with its serving. The expressions are the ones the refresh of
-- `food_summaries` looks entries up by.
CREATE INDEX IF NOT EXISTS food_entries_user_food
    ON food_entries (user_id, lower(trim(name)), COALESCE(serving_size, ''), eaten_at, id);

CREATE TABLE IF NOT EXISTS food_summaries (
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name_key        TEXT NOT NULL,
    serving_key     TEXT NOT NULL,
    times_logged    INTEGER NOT NULL,
    name            TEXT NOT NULL,
    serving_size    TEXT,
    calories        REAL NOT NULL,
    protein         REAL,
    carbs           REAL,
    fat             REAL,
    meal_type       TEXT NOT NULL,
    last_logged_at  TEXT NOT NULL,
    last_entry_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, name_key, serving_key)
);
CREATE INDEX IF NOT EXISTS food_summaries_recent
    ON food_summaries (user_id, last_logged_at DESC, last_entry_id DESC);
CREATE INDEX IF NOT EXISTS food_summaries_frequent
    ON food_summaries (user_id, times_logged DESC, last_logged_at DESC, last_entry_id DESC);

INSERT INTO food_summaries (user_id, name_key, serving_key, times_logged, name, serving_size,
                            calories, protein, carbs, fat, meal_type, last_logged_at, last_entry_id)
SELECT user_id, name_key, serving_key, n, name, serving_size, calories, protein, carbs, fat,
       meal_type, eaten_at, id
  FROM (SELECT e.*, lower(trim(name)) AS name_key, COALESCE(serving_size, '') AS serving_key,
               COUNT(*) OVER food AS n,
               ROW_NUMBER() OVER (food ORDER BY eaten_at DESC, id DESC) AS latest
          FROM food_entries e
         WHERE user_id IS NOT NULL
        WINDOW food AS (PARTITION BY user_id, lower(trim(name)), COALESCE(serving_size, '')))
 WHERE latest = 1
ON CONFLICT (user_id, name_key, serving_key) DO NOTHING;

CREATE TABLE IF NOT EXISTS meals (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    items       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS meals_user_name ON meals (user_id, lower(name), id);
