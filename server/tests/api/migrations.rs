//! Migrations: a database of the previous service keeps every row; migrations are
//! idempotent and never run two at a time.

use chrono::{DateTime, NaiveDate, Utc};
use shared::domain::cursor::{Cursor, CursorKey};
use shared::domain::entries::Food;
use shared::domain::records::ListQuery;
use testkit::sqlx::{self, PgPool, Row};
use testkit::{Backend, TestDb, backend_tests, with_pool};

/// The previous service's `init_db.py` schema: the first migration is that schema verbatim.
const LEGACY_SCHEMA: &str = include_str!("../../../migrations/postgres/0001_legacy_schema.sql");

const LEGACY_ROWS: &str = r#"
INSERT INTO users (id, email, name, created_at) VALUES
  ('u1', 'ann@example.com', 'Ann', '2024-01-01T08:00:00Z'),
  ('u2', 'bob@example.com', NULL, '2024-02-01T08:00:00Z');
INSERT INTO user_preferences (user_id, dietary_restrictions, nutrition_goals, notifications_enabled, created_at)
VALUES ('u1', ARRAY['Vegetarian', 'Gluten-free'], '{"calories": 1800, "protein": 90, "carbs": 200, "fat": 60}', FALSE, '2024-01-01T08:00:00Z');
INSERT INTO user_onboarding_data (user_id, age, gender, height_cm, current_weight_kg, target_weight_kg, fitness_goal, activity_level, created_at)
VALUES ('u1', 30, 'female', 165.5, 60.25, 58, 'lose_weight', 'moderately_active', '2024-01-01T08:00:00Z');
INSERT INTO food_entries (id, user_id, name, calories, meal_type, serving_size, protein, carbs, fat, notes, created_at) VALUES
  ('e1', 'u1', 'Oatmeal', 350.5, 'breakfast', '1 bowl', 12, 60, 7.25, NULL, '2024-07-10T23:59:59.500123Z'),
  ('e2', 'u1', 'Salad', 200, 'lunch', NULL, NULL, NULL, NULL, 'light', '2024-07-11T00:00:00Z'),
  ('e3', 'u1', 'Soup', 150.25, 'dinner', NULL, 5, 20, 3, NULL, '2024-07-11T18:30:00.000456Z');
INSERT INTO user_badges (user_id, badge_id, badge_name, badge_description, earned_at)
VALUES ('u1', 'first_entry', 'First Bite', 'Logged your first food entry', '2024-07-10T23:59:59Z');
"#;

#[tokio::test]
async fn a_database_of_the_previous_service_keeps_every_row() {
    let db = TestDb::empty(Backend::Postgres).await;
    let pool = PgPool::connect(db.url()).await.unwrap();
    sqlx::raw_sql(LEGACY_SCHEMA).execute(&pool).await.unwrap();
    sqlx::raw_sql(LEGACY_ROWS).execute(&pool).await.unwrap();

    let store = db.store();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();

    let counts: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users UNION ALL SELECT COUNT(*) FROM user_preferences \
         UNION ALL SELECT COUNT(*) FROM user_onboarding_data UNION ALL SELECT COUNT(*) FROM food_entries \
         UNION ALL SELECT COUNT(*) FROM user_badges",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(counts, vec![2, 1, 1, 3, 1]);

    // Old columns are untouched.
    let preferences = sqlx::query(
        "SELECT dietary_restrictions, nutrition_goals, notifications_enabled, timezone \
         FROM user_preferences WHERE user_id = 'u1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        preferences.get::<Vec<String>, _>(0),
        vec!["Vegetarian".to_owned(), "Gluten-free".to_owned()]
    );
    assert_eq!(preferences.get::<serde_json::Value, _>(1)["calories"], 1800);
    assert!(!preferences.get::<bool, _>(2));
    assert_eq!(preferences.get::<String, _>(3), "UTC");

    // Old entries were eaten when logged, on their UTC day.
    let entries = sqlx::query(
        "SELECT id, created_at, eaten_at, local_date, CAST(calories AS DOUBLE PRECISION) \
         FROM food_entries ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let days: Vec<(String, NaiveDate)> = entries
        .iter()
        .map(|row| {
            assert_eq!(
                row.get::<DateTime<Utc>, _>(1),
                row.get::<DateTime<Utc>, _>(2)
            );
            (row.get(0), row.get(3))
        })
        .collect();
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    assert_eq!(
        days,
        vec![
            ("e1".into(), day("2024-07-10")),
            ("e2".into(), day("2024-07-11")),
            ("e3".into(), day("2024-07-11"))
        ]
    );
    assert_eq!(entries[0].get::<f64, _>(4), 350.5);

    // The daily totals start from the old entries.
    let totals: Vec<(NaiveDate, i32, f64, f64)> = sqlx::query_as(
        "SELECT local_date, entries, CAST(calories AS DOUBLE PRECISION), CAST(fat AS DOUBLE PRECISION) \
         FROM daily_totals WHERE user_id = 'u1' ORDER BY local_date",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        totals,
        vec![
            (day("2024-07-10"), 1, 350.5, 7.25),
            (day("2024-07-11"), 2, 350.25, 3.0)
        ]
    );

    // The profile's totals start from them too; the old preferences gain the new ones'
    // defaults.
    let profile = store
        .profile(
            "u1",
            shared::time::parse_instant("2024-07-12T12:00:00Z").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&profile.stats).unwrap(),
        serde_json::json!({"totalEntries": 3, "totalCalories": 700.75, "trackingDays": 2,
                           "latestWeight": null, "weightTrend": null})
    );
    assert_eq!(
        serde_json::to_value(&profile.preferences).unwrap()["exerciseCalories"],
        "none"
    );
    assert_eq!(profile.preferences.water_goal, 2000);

    // The foods start from them: e2 and e3 are eaten on the same day, e3 the later.
    let recent = store
        .foods("u1", shared::domain::foods::FoodOrder::Recent, 10)
        .await
        .unwrap();
    let names: Vec<(&str, i64)> = recent
        .iter()
        .map(|food| (food.name.as_str(), food.times_logged))
        .collect();
    assert_eq!(names.first().map(|(name, _)| *name), Some("Soup"));
    assert_eq!(
        names.iter().map(|(_, times)| times).sum::<i64>(),
        3,
        "{names:?}"
    );

    // Old instants have microseconds: paging by the clients' cursors visits each entry once.
    let key = CursorKey::derive(&shared::secret::Secret::new("secret"));
    let mut query = ListQuery::all(1);
    let mut walked = Vec::new();
    loop {
        let page = store.records_page::<Food>("u1", &query).await.unwrap();
        walked.extend(page.records.into_iter().map(|entry| entry.id));
        let Some(next) = page.next else { break };
        query.after = Some(Cursor::decode(&next.encode(&key), &key).unwrap());
        assert!(walked.len() <= 3, "paging repeats {walked:?}");
    }
    assert_eq!(walked, ["e1", "e2", "e3"]);
    pool.close().await;
}

/// Fifty users of the previous service with two entries a day for 200 days, written day by
/// day (so a user's rows lie far apart, as a real history's do).
const LEGACY_HISTORY: &str = "
INSERT INTO users (id, email, created_at)
SELECT 'u' || lpad(g::text, 3, '0'), 'u' || g || '@example.com', '2024-01-01T00:00:00Z'
  FROM generate_series(1, 50) g;
INSERT INTO food_entries (id, user_id, name, calories, meal_type, protein, carbs, fat, created_at)
SELECT 'e' || d || '-' || u || '-' || k, 'u' || lpad(u::text, 3, '0'), 'Meal ' || k, 300 + k,
       'lunch', 10, 20, 5, timestamptz '2024-01-01T08:00:00Z' + make_interval(days => d, hours => k)
  FROM generate_series(0, 199) d, generate_series(1, 50) u, generate_series(0, 1) k
 ORDER BY d, u, k;
";

/// The tables a migration fills from the previous service's rows.
const FILLED: [&str; 4] = [
    "food_entries",
    "daily_totals",
    "user_totals",
    "food_summaries",
];

async fn last_vacuums(pool: &PgPool) -> Vec<(String, Option<DateTime<Utc>>, bool)> {
    sqlx::query(
        "SELECT relname::text, last_vacuum, last_analyze IS NOT NULL FROM pg_stat_user_tables \
         WHERE relname = ANY($1) ORDER BY relname",
    )
    .bind(&FILLED[..])
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1), row.get(2)))
    .collect()
}

#[tokio::test]
async fn a_migrated_database_of_the_previous_service_is_ready_to_serve() {
    let db = TestDb::empty(Backend::Postgres).await;
    let pool = PgPool::connect(db.url()).await.unwrap();
    sqlx::raw_sql(LEGACY_SCHEMA).execute(&pool).await.unwrap();
    sqlx::raw_sql(LEGACY_HISTORY).execute(&pool).await.unwrap();
    db.store().migrate().await.unwrap();

    // Vacuumed (the visibility map set) and analyzed (statistics) by the migration.
    let tidied = last_vacuums(&pool).await;
    assert_eq!(tidied.len(), FILLED.len(), "{tidied:?}");
    for (table, vacuumed, analyzed) in &tidied {
        assert!(
            vacuumed.is_some() && *analyzed,
            "{table} untidied: {tidied:?}"
        );
    }

    // A user's days lie together, in order.
    let days: Vec<(String, NaiveDate)> =
        sqlx::query_as("SELECT user_id, local_date FROM daily_totals ORDER BY ctid")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(days.len(), 50 * 200);
    assert!(days.is_sorted(), "daily_totals is not in (user, day) order");

    // A user's year of day sums is read from the covering index alone.
    let plan: serde_json::Value = sqlx::query_scalar(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT local_date, entries, calories, protein \
         FROM daily_totals WHERE user_id = 'u007' AND local_date BETWEEN '2024-02-01' AND '2024-06-30'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let scan = &plan[0]["Plan"];
    assert_eq!(scan["Node Type"], "Index Only Scan", "{plan:#}");
    assert_eq!(scan["Heap Fetches"], 0, "{plan:#}");

    // A migration with nothing left to apply leaves the tables alone.
    db.store().migrate().await.unwrap();
    assert_eq!(last_vacuums(&pool).await, tidied);
    pool.close().await;
}

#[tokio::test]
async fn concurrent_migrations_run_one_after_the_other() {
    let db = TestDb::empty(Backend::Postgres).await;
    let (first, second) = (db.store(), db.store());
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    a.unwrap();
    b.unwrap();
    let applied: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    let migrations = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/postgres"
    ))
    .unwrap()
    .count();
    assert_eq!(applied, migrations as i64);
}

async fn migrations_are_idempotent(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    store.migrate().await.unwrap();
    let tables: Vec<String> = with_pool!(db, |pool| {
        let sql = match backend {
            Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' ORDER BY 1"
            }
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
        };
        sqlx::query(sql)
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>(0))
            .collect()
    });
    for table in [
        "daily_totals",
        "food_entries",
        "idempotency_keys",
        "images",
        "job_cursors",
        "user_badges",
        "user_onboarding_data",
        "user_preferences",
        "users",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "{table} missing from {tables:?}"
        );
    }
}

backend_tests!(migrations_are_idempotent);
