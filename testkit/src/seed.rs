//! Test data written with raw SQL, the way the food diary writes it: each entry with its user's
//! day (`local_date`, the day of `eaten_at` in the user's zone at the time of writing) and the
//! matching `daily_totals` and `user_totals` rows. Bulk inserts make histories of thousands of entries cheap.
//! Weigh-ins go through the store, which keeps their days and trend.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use shared::domain::records::new_id;
use shared::domain::weights::{WeightEntry, Weights};
use shared::objects::ObjectKey;
use shared::store::{NewImage, NewUser, Store};
use shared::time::UserZone;

use crate::{TestDb, with_pool};

/// Rows per INSERT: well under both backends' limits on bound parameters.
const CHUNK: usize = 500;

/// A food entry to seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub eaten_at: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub calories: f64,
    pub protein: Option<f64>,
    pub carbs: Option<f64>,
    pub fat: Option<f64>,
}

impl Entry {
    /// Eaten at `eaten_at` by a user whose zone is `zone`: on `zone`'s day of that instant.
    pub fn eaten(zone: UserZone, eaten_at: DateTime<Utc>, calories: f64) -> Self {
        Self {
            eaten_at,
            local_date: zone.day_of(&eaten_at),
            calories,
            protein: None,
            carbs: None,
            fat: None,
        }
    }

    /// Eaten at noon UTC of `date`, by a user in UTC.
    pub fn on(date: NaiveDate, calories: f64) -> Self {
        let noon = date.and_hms_opt(12, 0, 0).expect("noon exists");
        Self::eaten(UserZone::UTC, Utc.from_utc_datetime(&noon), calories)
    }

    pub fn macros(self, protein: f64, carbs: f64, fat: f64) -> Self {
        Self {
            protein: Some(protein),
            carbs: Some(carbs),
            fat: Some(fat),
            ..self
        }
    }
}

/// Creates the user `id` as a first request with [`crate::TestApp::token`]'s claims would.
pub async fn user(store: &Store, id: &str) {
    store
        .create_user(&NewUser {
            id: id.to_owned(),
            email: format!("{id}@example.com"),
            name: Some(format!("User {id}")),
            created_at: shared::time::now(),
        })
        .await
        .expect("the user can be created");
}

/// Records a weigh-in of `kg` at `at` for `user_id` (who must exist), on `zone`'s day of it,
/// as `POST /weight-entries` does: its day's sums and the trend follow.
pub async fn weigh_in(store: &Store, user_id: &str, zone: UserZone, at: DateTime<Utc>, kg: f64) {
    let entry = WeightEntry {
        id: new_id(),
        weight: kg,
        body_fat: None,
        notes: None,
        timestamp: at,
        date: zone.day_of(&at),
        created_at: at,
    };
    store
        .create_record::<Weights, _>(user_id, &entry, entry.date, None, |_| ())
        .await
        .expect("the weigh-in can be recorded");
}

/// Records an upload of `owner` to `bucket` (as `POST /images` does, without the object) and
/// returns its key.
pub async fn image(store: &Store, bucket: &str, owner: &str) -> String {
    let key = ObjectKey::generate(owner, "jpg").expect("a valid owner");
    store
        .record_image(&NewImage {
            bucket,
            key: &key,
            user_id: owner,
            content_type: "image/jpeg",
            size_bytes: 3,
            created_at: shared::time::now(),
            checked: true,
        })
        .await
        .expect("the upload can be recorded");
    key.as_str().to_owned()
}

/// Recomputes the user's `daily_totals` from their entries: one row per day with entries.
const REBUILD_TOTALS: &str = "INSERT INTO daily_totals \
     (user_id, local_date, entries, calories, protein, carbs, fat, updated_at) \
     SELECT user_id, local_date, COUNT(*), SUM(calories), COALESCE(SUM(protein), 0), \
     COALESCE(SUM(carbs), 0), COALESCE(SUM(fat), 0), MAX(created_at) \
     FROM food_entries WHERE user_id = $1 GROUP BY user_id, local_date \
     ON CONFLICT (user_id, local_date) DO UPDATE SET entries = EXCLUDED.entries, \
     calories = EXCLUDED.calories, protein = EXCLUDED.protein, carbs = EXCLUDED.carbs, \
     fat = EXCLUDED.fat, updated_at = EXCLUDED.updated_at";

/// Recomputes the user's `user_totals` from their `daily_totals`.
const REBUILD_USER_TOTALS: &str = "INSERT INTO user_totals \
     (user_id, entries, calories, tracking_days, updated_at) \
     SELECT user_id, SUM(entries), SUM(calories), COUNT(*), MAX(updated_at) \
     FROM daily_totals WHERE user_id = $1 GROUP BY user_id \
     ON CONFLICT (user_id) DO UPDATE SET entries = EXCLUDED.entries, \
     calories = EXCLUDED.calories, tracking_days = EXCLUDED.tracking_days, \
     updated_at = EXCLUDED.updated_at";

/// Inserts `entries` of `user_id` (who must exist) and brings their `daily_totals` and
/// `user_totals` up to date.
pub async fn entries(db: &TestDb, user_id: &str, entries: &[Entry]) {
    with_pool!(db, |pool| {
        for chunk in entries.chunks(CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO food_entries (id, user_id, name, calories, meal_type, protein, \
                 carbs, fat, created_at, eaten_at, local_date) ",
            );
            insert.push_values(chunk, |mut row, entry| {
                row.push_bind(uuid::Uuid::new_v4().to_string())
                    .push_bind(user_id)
                    .push_bind("Seeded meal")
                    .push_bind(entry.calories)
                    .push_bind("lunch")
                    .push_bind(entry.protein)
                    .push_bind(entry.carbs)
                    .push_bind(entry.fat)
                    .push_bind(entry.eaten_at)
                    .push_bind(entry.eaten_at)
                    .push_bind(entry.local_date);
            });
            insert
                .build()
                .execute(&pool)
                .await
                .expect("entries can be inserted");
        }
        for rebuild in [REBUILD_TOTALS, REBUILD_USER_TOTALS] {
            sqlx::query(rebuild)
                .bind(user_id)
                .execute(&pool)
                .await
                .expect("totals can be rebuilt");
        }
    })
}

/// Records that `user_id` earned the badge `id` at `earned_at`.
pub async fn badge(
    db: &TestDb,
    user_id: &str,
    id: &str,
    name: &str,
    description: Option<&str>,
    earned_at: DateTime<Utc>,
) {
    with_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO user_badges (user_id, badge_id, badge_name, badge_description, earned_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(id)
        .bind(name)
        .bind(description)
        .bind(earned_at)
        .execute(&pool)
        .await
        .expect("the badge can be recorded");
    })
}
