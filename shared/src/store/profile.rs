//! The profile: `users`, `user_preferences` and `user_onboarding_data`, with the totals of
//! `user_totals`, the latest weigh-in, the trend of the day, the badges of `user_badges` and
//! whether the account is being deleted, read in one statement; and their writes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use sqlx::types::Json;

use super::lease::commit;
use super::records::insert_in;
use super::user_writes::begin_write;
use super::{Dialect, Store, with_db};
use crate::domain::badges::EarnedBadge;
use crate::domain::goals::NutritionGoals;
use crate::domain::ids::ObjectKey;
use crate::domain::onboarding::Onboarding;
use crate::domain::profile::{
    DEFAULT_WATER_GOAL, ExerciseCalories, OnboardingData, Preferences, PreferencesUpdate, Profile,
    ProfileStats, ProfileUpdate,
};
use crate::domain::weights::{self, WeightEntry, Weights};
use crate::error::{Error, Result};
use crate::time::{self, UserZone};

/// The whole profile in one statement, whatever the size of the user's history: stats are
/// the user's kept totals, the weight the latest weigh-in, badges one JSON array. The user's
/// today depends on their zone, which this statement reads, so it returns the trends of the
/// latest three weigh-in days up to `$2`, the last of the three [`time::days_of_any_zone`]:
/// at most two of those days come after the user's, so the latest weigh-in day on or before
/// it is among them. The dialects differ only in how arrays, JSON and timestamps become JSON
/// text.
macro_rules! profile_query {
    (
        dietary_restrictions: $restrictions:literal,
        nutrition_goals: $goals:literal,
        recent_trends: $trends:literal,
        badges: $badges:literal $(,)?
    ) => {
        concat!(
            "SELECT u.id, u.name, u.email, u.profile_picture, ",
            $restrictions,
            " AS dietary_restrictions, ",
            $goals,
            " AS nutrition_goals, p.notifications_enabled, p.timezone, p.exercise_calories, ",
            "CAST(p.water_goal AS BIGINT) AS water_goal, ",
            "o.user_id AS onboarded, o.age, o.gender, ",
            "CAST(o.height_cm AS DOUBLE PRECISION) AS height, ",
            "CAST(o.current_weight_kg AS DOUBLE PRECISION) AS current_weight, ",
            "CAST(o.target_weight_kg AS DOUBLE PRECISION) AS target_weight, ",
            "o.fitness_goal, o.activity_level, ",
            "CAST(COALESCE(t.entries, 0) AS BIGINT) AS total_entries, ",
            "CAST(COALESCE(t.calories, 0) AS DOUBLE PRECISION) AS total_calories, ",
            "CAST(COALESCE(t.tracking_days, 0) AS BIGINT) AS tracking_days, ",
            "(SELECT CAST(w.weight AS DOUBLE PRECISION) FROM weight_entries w WHERE w.user_id = u.id ",
            "ORDER BY w.happened_at DESC, w.id DESC LIMIT 1) AS latest_weight, ",
            "(",
            $trends,
            " FROM (SELECT d.local_date, d.trend FROM weight_days d ",
            "WHERE d.user_id = u.id AND d.local_date <= $2 ",
            "ORDER BY d.local_date DESC LIMIT 3) AS d) AS recent_trends, (",
            $badges,
            " FROM user_badges b WHERE b.user_id = u.id) AS badges, ",
            "EXISTS (SELECT 1 FROM account_deletions a WHERE a.user_id = u.id) AS leaving ",
            "FROM users u ",
            "LEFT JOIN user_preferences p ON p.user_id = u.id ",
            "LEFT JOIN user_onboarding_data o ON o.user_id = u.id ",
            "LEFT JOIN user_totals t ON t.user_id = u.id ",
            "WHERE u.id = $1"
        )
    };
}

pub(super) const PROFILE_POSTGRES: &str = profile_query!(
    dietary_restrictions: "to_json(p.dietary_restrictions)::text",
    nutrition_goals: "p.nutrition_goals::text",
    recent_trends: "SELECT json_agg(json_build_array(d.local_date, d.trend))::text",
    badges: "SELECT json_agg(json_build_object('id', b.badge_id, 'name', b.badge_name, \
             'description', b.badge_description, 'earnedAt', \
             to_char(b.earned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) \
             ORDER BY b.earned_at, b.id)::text",
);

const PROFILE_SQLITE: &str = profile_query!(
    dietary_restrictions: "p.dietary_restrictions",
    nutrition_goals: "p.nutrition_goals",
    recent_trends: "SELECT json_group_array(json_array(d.local_date, d.trend))",
    badges: "SELECT json_group_array(json_object('id', b.badge_id, 'name', b.badge_name, \
             'description', b.badge_description, 'earnedAt', b.earned_at) \
             ORDER BY b.earned_at, b.id)",
);

/// Sets what a [`PreferencesUpdate`] names and keeps the rest (a new row starts from the
/// defaults). Dietary restrictions are bound as a JSON array: SQLite stores it as it is,
/// PostgreSQL turns it into its `TEXT[]`, in order.
macro_rules! preferences_upsert {
    ($restrictions:literal) => {
        concat!(
            "INSERT INTO user_preferences (user_id, dietary_restrictions, nutrition_goals, ",
            "notifications_enabled, timezone, exercise_calories, water_goal, created_at, updated_at) ",
            "VALUES ($1, ",
            $restrictions,
            ", $3, COALESCE($4, TRUE), COALESCE($5, 'UTC'), COALESCE($7, 'none'), COALESCE($8, 2000), ",
            "$6, $6) ",
            "ON CONFLICT (user_id) DO UPDATE SET ",
            "dietary_restrictions = COALESCE(EXCLUDED.dietary_restrictions, user_preferences.dietary_restrictions), ",
            "nutrition_goals = COALESCE(EXCLUDED.nutrition_goals, user_preferences.nutrition_goals), ",
            "notifications_enabled = COALESCE($4, user_preferences.notifications_enabled), ",
            "timezone = COALESCE($5, user_preferences.timezone), ",
            "exercise_calories = COALESCE($7, user_preferences.exercise_calories), ",
            "water_goal = COALESCE($8, user_preferences.water_goal), ",
            "updated_at = EXCLUDED.updated_at"
        )
    };
}

const PREFERENCES_POSTGRES: &str = preferences_upsert!(
    "CASE WHEN $2 IS NULL THEN NULL ELSE ARRAY(SELECT e.value \
     FROM jsonb_array_elements_text($2) WITH ORDINALITY AS e(value, n) ORDER BY e.n) END"
);

const PREFERENCES_SQLITE: &str = preferences_upsert!("$2");

/// Runs the preferences upsert of `$store`'s dialect for `$update` on `$executor`.
macro_rules! upsert_preferences {
    ($store:expr, $executor:expr, $user_id:expr, $update:expr, $now:expr) => {{
        let update: &PreferencesUpdate = $update;
        let sql = match $store.dialect() {
            Dialect::Postgres => PREFERENCES_POSTGRES,
            Dialect::Sqlite => PREFERENCES_SQLITE,
        };
        $store
            .query(sql)
            .bind($user_id)
            .bind(update.dietary_restrictions.as_ref().map(Json))
            .bind(update.nutrition_goals.as_ref().map(Json))
            .bind(update.notifications)
            .bind(update.timezone.map(|zone| zone.name()))
            .bind($now)
            .bind(update.exercise_calories.map(|share| share.as_str()))
            .bind(update.water_goal)
            .execute($executor)
            .await
            .map_err(user_gone)
    }};
}

const UPDATE_USER: &str = "UPDATE users SET name = COALESCE($2, name), \
     profile_picture = CASE WHEN $3 THEN $4 ELSE profile_picture END WHERE id = $1";

const UPSERT_ONBOARDING: &str = "INSERT INTO user_onboarding_data (user_id, age, gender, \
     height_cm, current_weight_kg, target_weight_kg, fitness_goal, activity_level, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
     ON CONFLICT (user_id) DO UPDATE SET age = EXCLUDED.age, gender = EXCLUDED.gender, \
     height_cm = EXCLUDED.height_cm, current_weight_kg = EXCLUDED.current_weight_kg, \
     target_weight_kg = EXCLUDED.target_weight_kg, fitness_goal = EXCLUDED.fitness_goal, \
     activity_level = EXCLUDED.activity_level, updated_at = EXCLUDED.updated_at";

impl Store {
    /// The whole profile as `GET /profile` answers it `now` (the trend of the user's day), in
    /// one round trip; `None` when the user does not exist or their account is being deleted.
    /// It needs no [`Store::standing`] first: the user's zone is in the row.
    pub async fn profile(&self, user_id: &str, now: DateTime<Utc>) -> Result<Option<Profile>> {
        let sql = self.profile_sql();
        let row: Option<ProfileRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(sql)
                .bind(user_id)
                .bind(latest_day(&now))
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        ProfileRow::into_served(row, &now)
    }

    /// Applies a `PUT /profile` in one transaction and reads the profile it leaves, as of
    /// `now`; `None` when the user does not exist or their account is being deleted.
    pub async fn update_profile(
        &self,
        user_id: &str,
        update: &ProfileUpdate,
        now: DateTime<Utc>,
    ) -> Result<Option<Profile>> {
        let read = self.profile_sql();
        let picture = update
            .profile_picture
            .as_ref()
            .map(|picture| picture.as_ref().map(ObjectKey::as_str));
        let row: Option<ProfileRow> = with_db!(self, |conn| {
            let mut tx = super::begin(conn, self.dialect()).await?;
            if update.changes_user() {
                self.query(UPDATE_USER)
                    .bind(user_id)
                    .bind(update.name.as_deref())
                    .bind(picture.is_some())
                    .bind(picture.flatten())
                    .execute(&mut *tx)
                    .await?;
            }
            if update.preferences.changes_anything() {
                upsert_preferences!(self, &mut *tx, user_id, &update.preferences, now)?;
            }
            let row = self
                .query_as(read)
                .bind(user_id)
                .bind(latest_day(&now))
                .fetch_optional(&mut *tx)
                .await?;
            commit(tx).await?;
            Ok(row)
        })?;
        ProfileRow::into_served(row, &now)
    }

    /// Stores the onboarding answers, the goals computed from them and the weigh-in of its
    /// current weight, in one transaction; answers and goals replace earlier ones.
    pub async fn save_onboarding(
        &self,
        user_id: &str,
        onboarding: &Onboarding,
        goals: &NutritionGoals,
        weigh_in: &WeightEntry,
    ) -> Result<()> {
        let now = weigh_in.created_at;
        let preferences = PreferencesUpdate {
            nutrition_goals: Some(*goals),
            ..PreferencesUpdate::default()
        };
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            self.query(UPSERT_ONBOARDING)
                .bind(user_id)
                .bind(onboarding.age)
                .bind(onboarding.gender.as_str())
                .bind(onboarding.height)
                .bind(onboarding.current_weight)
                .bind(onboarding.target_weight)
                .bind(onboarding.goal.as_str())
                .bind(onboarding.activity_level.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(user_gone)?;
            upsert_preferences!(self, &mut *tx, user_id, &preferences, now)?;
            let weighed = insert_in::<Weights, _>(
                &mut tx,
                self.dialect(),
                user_id,
                std::slice::from_ref(weigh_in),
                weigh_in.date,
                now,
            )
            .await?;
            if weighed.is_none() {
                return Err(Error::NotFound("User not found"));
            }
            tx.commit().await
        })
    }

    /// Replaces the user's nutrition goals.
    pub async fn set_nutrition_goals(&self, user_id: &str, goals: &NutritionGoals) -> Result<()> {
        let preferences = PreferencesUpdate {
            nutrition_goals: Some(*goals),
            ..PreferencesUpdate::default()
        };
        with_db!(self, |conn| {
            upsert_preferences!(self, &mut **conn, user_id, &preferences, time::now())?;
            Ok(())
        })
    }

    fn profile_sql(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => PROFILE_POSTGRES,
            Dialect::Sqlite => PROFILE_SQLITE,
        }
    }
}

/// The profile statement's `$2`: the latest day any user can be in `now`.
fn latest_day(now: &DateTime<Utc>) -> NaiveDate {
    let [.., latest] = time::days_of_any_zone(now);
    latest
}

/// A write for a user who is no longer there (their account was deleted meanwhile) violates
/// the foreign key to `users`: the user is not found.
fn user_gone(err: sqlx::Error) -> Error {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            Error::NotFound("User not found")
        }
        _ => err.into(),
    }
}

/// A profile as the database returns it: JSON arrives as text, read leniently, since rows of
/// the previous service may hold odd values.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: String,
    name: Option<String>,
    email: String,
    profile_picture: Option<String>,
    dietary_restrictions: Option<String>,
    nutrition_goals: Option<String>,
    notifications_enabled: Option<bool>,
    timezone: Option<String>,
    exercise_calories: Option<String>,
    water_goal: Option<i64>,
    onboarded: Option<String>,
    age: Option<i32>,
    gender: Option<String>,
    height: Option<f64>,
    current_weight: Option<f64>,
    target_weight: Option<f64>,
    fitness_goal: Option<String>,
    activity_level: Option<String>,
    total_entries: i64,
    total_calories: f64,
    tracking_days: i64,
    latest_weight: Option<f64>,
    /// `[[date, trend], …]` of the latest weigh-in days up to the latest day of any zone.
    recent_trends: Option<String>,
    badges: Option<String>,
    leaving: bool,
}

/// A badge as the profile statement renders it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BadgeRow {
    id: String,
    name: String,
    description: Option<String>,
    earned_at: String,
}

impl ProfileRow {
    /// The profile a row shows `now`; none for a user whose account is being deleted.
    fn into_served(row: Option<Self>, now: &DateTime<Utc>) -> Result<Option<Profile>> {
        row.filter(|row| !row.leaving)
            .map(|row| row.into_profile(now))
            .transpose()
    }

    fn into_profile(self, now: &DateTime<Utc>) -> Result<Profile> {
        let zone = UserZone::stored(self.timezone.as_deref());
        let recent_trends: Vec<(NaiveDate, Option<f64>)> = json_list(self.recent_trends)?;
        let restrictions: Option<Vec<Value>> = lenient_json(self.dietary_restrictions.as_deref());
        let goals: Option<Value> = lenient_json(self.nutrition_goals.as_deref());
        let badges: Vec<BadgeRow> = json_list(self.badges)?;
        Ok(Profile {
            user_id: self.id,
            name: self.name,
            email: self.email,
            profile_picture: self.profile_picture,
            preferences: Preferences {
                dietary_restrictions: restrictions
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|item| match item {
                        Value::String(text) => Some(text),
                        _ => None,
                    })
                    .collect(),
                nutrition_goals: NutritionGoals::from_stored(goals.as_ref()),
                notifications: self.notifications_enabled.unwrap_or(true),
                timezone: zone,
                exercise_calories: self
                    .exercise_calories
                    .as_deref()
                    .and_then(ExerciseCalories::from_name)
                    .unwrap_or_default(),
                water_goal: self.water_goal.unwrap_or(DEFAULT_WATER_GOAL),
            },
            onboarding_data: self.onboarded.map(|_| OnboardingData {
                age: self.age,
                gender: self.gender,
                height: self.height,
                current_weight: self.current_weight,
                target_weight: self.target_weight,
                goal: self.fitness_goal,
                activity_level: self.activity_level,
            }),
            stats: ProfileStats {
                total_entries: self.total_entries,
                total_calories: self.total_calories,
                tracking_days: self.tracking_days,
                latest_weight: self.latest_weight,
                weight_trend: weights::trend_as_of(&recent_trends, zone.day_of(now)),
            },
            badges: badges
                .into_iter()
                .map(BadgeRow::into_badge)
                .collect::<Result<_>>()?,
        })
    }
}

/// A JSON array the statement itself built (an aggregate; none when it had no rows).
fn json_list<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Vec<T>> {
    text.map_or_else(
        || Ok(Vec::new()),
        |text| serde_json::from_str(&text).map_err(Error::internal),
    )
}

/// JSON text of the expected shape, or `None`.
pub(super) fn lenient_json<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Option<T> {
    text.and_then(|text| serde_json::from_str(text).ok())
}

impl BadgeRow {
    fn into_badge(self) -> Result<EarnedBadge> {
        let earned_at: DateTime<Utc> = time::parse_instant(&self.earned_at)
            .ok_or_else(|| Error::internal("a badge's earned_at is not an instant"))?;
        Ok(EarnedBadge {
            id: self.id,
            name: self.name,
            description: self.description.unwrap_or_default(),
            earned_at,
        })
    }
}
