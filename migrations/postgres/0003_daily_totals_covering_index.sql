-- Every read of daily_totals (profile stats, summaries, streak days, badge facts) becomes an
-- index-only scan: a user's days sit together in the index with their sums, instead of one
-- heap page per day, so reading five years of days costs a dozen pages.
CREATE INDEX IF NOT EXISTS daily_totals_user_day_sums
    ON daily_totals (user_id, local_date) INCLUDE (entries, calories, protein, carbs, fat);
