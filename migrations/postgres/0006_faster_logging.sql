-- Faster logging: the user's foods (recent and frequent) and saved meals.

-- Entries by food: a food is its name, trimmed and without regard to case, with its serving.
-- The expressions are the ones the refresh of `food_summaries` looks entries up by, so this
-- index serves its count and its latest entry.
CREATE INDEX IF NOT EXISTS food_entries_user_food
    ON food_entries (user_id, lower(trim(name)), COALESCE(serving_size, ''), eaten_at, id);

-- One row per food of a user: how many entries are that food, and the values of the latest.
-- Every entry write refreshes the foods it touches in its own transaction.
CREATE TABLE IF NOT EXISTS food_summaries (
    user_id         VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name_key        VARCHAR(255) NOT NULL,
    serving_key     VARCHAR(255) NOT NULL,
    times_logged    BIGINT NOT NULL,
    name            VARCHAR(255) NOT NULL,
    serving_size    VARCHAR(255),
    calories        DECIMAL(10, 2) NOT NULL,
    protein         DECIMAL(10, 2),
    carbs           DECIMAL(10, 2),
    fat             DECIMAL(10, 2),
    meal_type       VARCHAR(50) NOT NULL,
    last_logged_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    last_entry_id   VARCHAR(36) NOT NULL,
    PRIMARY KEY (user_id, name_key, serving_key)
);
CREATE INDEX IF NOT EXISTS food_summaries_recent
    ON food_summaries (user_id, last_logged_at DESC, last_entry_id DESC);
CREATE INDEX IF NOT EXISTS food_summaries_frequent
    ON food_summaries (user_id, times_logged DESC, last_logged_at DESC, last_entry_id DESC);

INSERT INTO food_summaries (user_id, name_key, serving_key, times_logged, name, serving_size,
                            calories, protein, carbs, fat, meal_type, last_logged_at, last_entry_id)
SELECT DISTINCT ON (user_id, lower(trim(name)), COALESCE(serving_size, ''))
       user_id, lower(trim(name)), COALESCE(serving_size, ''),
       COUNT(*) OVER (PARTITION BY user_id, lower(trim(name)), COALESCE(serving_size, '')),
       name, serving_size, calories, protein, carbs, fat, meal_type, eaten_at, id
  FROM food_entries
 WHERE user_id IS NOT NULL
 ORDER BY user_id, lower(trim(name)), COALESCE(serving_size, ''), eaten_at DESC, id DESC
ON CONFLICT (user_id, name_key, serving_key) DO NOTHING;

-- Saved meals: a named list of foods (at most 50, as JSON: they are always read and written
-- whole) to log in one step.
CREATE TABLE IF NOT EXISTS meals (
    id          VARCHAR(36) PRIMARY KEY,
    user_id     VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        VARCHAR(100) NOT NULL,
    items       JSONB NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX IF NOT EXISTS meals_user_name ON meals (user_id, lower(name), id);
