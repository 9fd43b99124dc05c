//! `food_entries`, the diary, on the records mechanism ([`super::records`]): its day sums are
//! `daily_totals`, its writes keep `user_totals` (the profile's stats) and the summaries of
//! the foods they touch, and evaluate badges.

use chrono::{DateTime, Utc};

use super::foods::FoodRef;
use super::params::Param;
use super::records::{Effect, KindSql, Stored, insert_statements, kind_sql};
use crate::domain::entries::{Entry, Food};

impl Stored for Food {
    type Record = Entry;
    const SQL: KindSql = kind_sql! {
        table: "food_entries",
        time: "eaten_at",
        select: "id, user_id, name, CAST(calories AS DOUBLE PRECISION) AS calories, meal_type, \
                 serving_size, CAST(protein AS DOUBLE PRECISION) AS protein, \
                 CAST(carbs AS DOUBLE PRECISION) AS carbs, CAST(fat AS DOUBLE PRECISION) AS fat, \
                 notes, image_key, eaten_at, created_at",
        filter: Some("meal_type"),
        values: [
            "name" = "$5",
            "calories" = "$6",
            "meal_type" = "$7",
            "serving_size" = "$8",
            "protein" = "$9",
            "carbs" = "$10",
            "fat" = "$11",
            "notes" = "$12",
            "image_key" = "$13",
            "eaten_at" = "$14",
        ],
        days: "daily_totals",
        count: "entries",
        sums: [
            "calories" = "calories",
            "protein" = "COALESCE(protein, 0)",
            "carbs" = "COALESCE(carbs, 0)",
            "fat" = "COALESCE(fat, 0)",
        ],
        totals: { record: "calories", day: "calories" },
    };
    const EFFECT: Effect = Effect::Diary;

    fn values(entry: &Entry) -> Vec<Param<'_>> {
        vec![
            Param::Text(Some(&entry.name)),
            Param::Real(Some(entry.calories)),
            Param::Text(Some(&entry.meal_type)),
            Param::Text(entry.serving_size.as_deref()),
            Param::Real(entry.protein),
            Param::Real(entry.carbs),
            Param::Real(entry.fat),
            Param::Text(entry.notes.as_deref()),
            Param::Text(entry.image_key.as_deref()),
            Param::Instant(entry.timestamp),
        ]
    }

    fn id(entry: &Entry) -> &str {
        &entry.id
    }

    fn created_at(entry: &Entry) -> DateTime<Utc> {
        entry.created_at
    }

    fn food(entry: &Entry) -> Option<FoodRef<'_>> {
        Some(FoodRef {
            name: &entry.name,
            serving_size: entry.serving_size.as_deref(),
        })
    }
}

/// PostgreSQL's insert of one entry, the statement of every `POST /food-entries` (a routine
/// serves it, see [`super::routines`]).
pub(super) fn insert_one_postgres() -> String {
    insert_statements(Food::SQL.insert[0], 1, Food::SQL.values).remove(0)
}

/// The types of [`insert_one_postgres`]'s parameters as they are bound: the user, now, the
/// day, the entry's id, then its [`Stored::values`].
pub(super) const INSERT_ONE_PARAMS: &[&str] = &[
    "text",
    "timestamptz",
    "date",
    "text",
    "text",
    "double precision",
    "text",
    "text",
    "double precision",
    "double precision",
    "double precision",
    "text",
    "text",
    "timestamptz",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entries::NewEntry;
    use crate::store::records::assert_layout;

    #[test]
    fn every_statement_names_the_parameters_of_its_layout() {
        assert_layout(&Food::SQL, 10);
    }

    #[test]
    fn the_routine_of_an_insert_declares_the_types_bound() {
        let body = serde_json::json!({"name": "Toast", "calories": 210, "mealType": "snack"});
        let entry = NewEntry::read(&body, Utc::now())
            .unwrap()
            .into_entry("user", Utc::now());
        let bound: Vec<&str> = [
            Param::Text(Some("user")),
            Param::Instant(Utc::now()),
            Param::Day(Utc::now().date_naive()),
            Param::Text(Some(&entry.id)),
        ]
        .into_iter()
        .chain(Food::values(&entry))
        .map(|param| param.sql_type())
        .collect();
        assert_eq!(bound, INSERT_ONE_PARAMS);
    }
}
