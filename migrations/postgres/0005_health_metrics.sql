-- Health metrics beside food: weigh-ins, activities and water, each a log of the user's dated
-- records like food_entries (its day fixed when written, listed by its time then id), each with
-- one row per user's day of sums kept in the same transaction as every write.

CREATE TABLE IF NOT EXISTS weight_entries (
    id           VARCHAR(36) PRIMARY KEY,
    user_id      VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    weight       DECIMAL(5, 2) NOT NULL,
    body_fat     DECIMAL(4, 2),
    notes        TEXT,
    happened_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    local_date   DATE NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX IF NOT EXISTS weight_entries_user_time ON weight_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS weight_entries_user_day ON weight_entries (user_id, local_date, happened_at, id);

-- Per day: the weigh-ins and their sum (the day's weight is their mean), and the trend after
-- the day: the exponentially smoothed weight over the user's whole history, unrounded.
CREATE TABLE IF NOT EXISTS weight_days (
    user_id     VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    weigh_ins   INTEGER NOT NULL,
    weight_sum  DECIMAL(10, 2) NOT NULL,
    trend       DOUBLE PRECISION,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (user_id, local_date)
);
CREATE INDEX IF NOT EXISTS weight_days_user_day_sums
    ON weight_days (user_id, local_date) INCLUDE (weigh_ins, weight_sum, trend);

CREATE TABLE IF NOT EXISTS activity_entries (
    id                VARCHAR(36) PRIMARY KEY,
    user_id           VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name              VARCHAR(255) NOT NULL,
    calories_burned   DECIMAL(10, 2) NOT NULL,
    met               DECIMAL(5, 2),
    duration_minutes  INTEGER,
    notes             TEXT,
    happened_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    local_date        DATE NOT NULL,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_entries_user_time ON activity_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS activity_entries_user_day ON activity_entries (user_id, local_date, happened_at, id);

CREATE TABLE IF NOT EXISTS activity_days (
    user_id          VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date       DATE NOT NULL,
    activities       INTEGER NOT NULL,
    calories_burned  DECIMAL(14, 2) NOT NULL,
    updated_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (user_id, local_date)
);
CREATE INDEX IF NOT EXISTS activity_days_user_day_sums
    ON activity_days (user_id, local_date) INCLUDE (activities, calories_burned);

CREATE TABLE IF NOT EXISTS water_entries (
    id           VARCHAR(36) PRIMARY KEY,
    user_id      VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount       INTEGER NOT NULL,
    happened_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    local_date   DATE NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX IF NOT EXISTS water_entries_user_time ON water_entries (user_id, happened_at, id);
CREATE INDEX IF NOT EXISTS water_entries_user_day ON water_entries (user_id, local_date, happened_at, id);

CREATE TABLE IF NOT EXISTS water_days (
    user_id     VARCHAR(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    local_date  DATE NOT NULL,
    drinks      INTEGER NOT NULL,
    amount_ml   BIGINT NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (user_id, local_date)
);
CREATE INDEX IF NOT EXISTS water_days_user_day_sums
    ON water_days (user_id, local_date) INCLUDE (drinks, amount_ml);

-- The profile's stats over the whole diary, kept by every food write, so reading them costs
-- one row however long the history.
CREATE TABLE IF NOT EXISTS user_totals (
    user_id        VARCHAR(36) PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    entries        BIGINT NOT NULL,
    calories       DECIMAL(16, 2) NOT NULL,
    tracking_days  BIGINT NOT NULL,
    updated_at     TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO user_totals (user_id, entries, calories, tracking_days, updated_at)
SELECT user_id, SUM(entries), SUM(calories), COUNT(*), MAX(updated_at)
  FROM daily_totals
 GROUP BY user_id
ON CONFLICT (user_id) DO NOTHING;

-- The new preferences: how much of a day's activity its budget adds back, the water goal.
ALTER TABLE user_preferences ADD COLUMN IF NOT EXISTS exercise_calories VARCHAR(8) NOT NULL DEFAULT 'none';
ALTER TABLE user_preferences ADD COLUMN IF NOT EXISTS water_goal INTEGER NOT NULL DEFAULT 2000;
