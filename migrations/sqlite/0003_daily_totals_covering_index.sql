-- As on PostgreSQL: reads of daily_totals are answered from the index alone (SQLite has no
-- INCLUDE; the sums are trailing key columns).
CREATE INDEX IF NOT EXISTS daily_totals_user_day_sums
    ON daily_totals (user_id, local_date, entries, calories, protein, carbs, fat);
