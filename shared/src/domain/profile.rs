//! The profile: what `GET /profile` answers (and `PUT /profile`, and the export, reuse), and
//! the changes `PUT /profile` accepts.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::badges::EarnedBadge;
use super::goals::{self, NutritionGoals};
use crate::domain::ids::ObjectKey;
use crate::error::Result;
use crate::time::{UserZone, amount};
use crate::validate::spec::{Choice, Flag, Integer, Key, Nested, Text, TextList, Zone};
use crate::validate::{Body, Field, Fields, Len, Mode, Presence, Spec, Unknown};

/// The whole profile, exactly as `GET /profile` answers it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: String,
    pub name: Option<String>,
    pub email: String,
    /// The key of the profile picture (an image the user uploaded to `profile-pictures`).
    pub profile_picture: Option<String>,
    pub preferences: Preferences,
    /// `null` before onboarding.
    pub onboarding_data: Option<OnboardingData>,
    pub stats: ProfileStats,
    /// In the order earned.
    pub badges: Vec<EarnedBadge>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    pub dietary_restrictions: Vec<String>,
    /// The defaults `{2000, 100, 250, 70}` when the user has set none.
    pub nutrition_goals: NutritionGoals,
    pub notifications: bool,
    /// The IANA zone that decides the user's day.
    #[schema(value_type = String, example = "Europe/Berlin")]
    pub timezone: UserZone,
    /// How much of the day's activity is added back to its calorie budget.
    #[schema(value_type = String, example = "none")]
    pub exercise_calories: ExerciseCalories,
    /// Millilitres a day.
    #[schema(example = 2000)]
    pub water_goal: i64,
}

/// `preferences.exerciseCalories`: the share `k` of a day's `caloriesBurned` that its
/// `caloriesRemaining` adds back (0, ½ or 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExerciseCalories {
    #[default]
    None,
    Half,
    All,
}

impl ExerciseCalories {
    pub const NAMES: &'static [&'static str] = &["none", "half", "all"];

    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseCalories::None => "none",
            ExerciseCalories::Half => "half",
            ExerciseCalories::All => "all",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(ExerciseCalories::None),
            "half" => Some(ExerciseCalories::Half),
            "all" => Some(ExerciseCalories::All),
            _ => None,
        }
    }

    /// The share added back.
    pub fn share(self) -> f64 {
        match self {
            ExerciseCalories::None => 0.0,
            ExerciseCalories::Half => 0.5,
            ExerciseCalories::All => 1.0,
        }
    }
}

impl Serialize for ExerciseCalories {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The water goal of a user who has set none, in millilitres.
pub const DEFAULT_WATER_GOAL: i64 = 2000;

/// What the user said at onboarding. Rows of the previous service may lack any of it (`null`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnboardingData {
    pub age: Option<i32>,
    pub gender: Option<String>,
    /// Centimetres.
    #[serde(with = "amount::optional")]
    pub height: Option<f64>,
    /// Kilograms.
    #[serde(with = "amount::optional")]
    pub current_weight: Option<f64>,
    /// Kilograms.
    #[serde(with = "amount::optional")]
    pub target_weight: Option<f64>,
    pub goal: Option<String>,
    pub activity_level: Option<String>,
}

/// Totals over the user's whole diary.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStats {
    pub total_entries: i64,
    #[serde(with = "amount")]
    pub total_calories: f64,
    /// The user's days with at least one entry.
    pub tracking_days: i64,
    /// The weight of the latest weigh-in (kg), or null.
    #[serde(with = "amount::optional")]
    #[schema(value_type = Option<f64>, example = 59.2)]
    pub latest_weight: Option<f64>,
    /// The trend of the user's today (kg, the smoothed weight), or null.
    #[serde(with = "amount::optional")]
    #[schema(value_type = Option<f64>, example = 59.46)]
    pub weight_trend: Option<f64>,
}

/// The body of `PUT /profile`: any of these fields, at least one; what is absent stays as it is.
/// Unknown fields are rejected at every level.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    /// `Some(None)` removes the picture, `None` leaves it.
    pub profile_picture: Option<Option<ObjectKey>>,
    pub preferences: PreferencesUpdate,
}

/// The preferences a `PUT /profile` changes: any of them, at least one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PreferencesUpdate {
    /// Replaces the list.
    pub dietary_restrictions: Option<Vec<String>>,
    pub nutrition_goals: Option<NutritionGoals>,
    pub notifications: Option<bool>,
    pub timezone: Option<UserZone>,
    pub exercise_calories: Option<ExerciseCalories>,
    pub water_goal: Option<i64>,
}

/// What a `profilePicture` must be.
pub const PROFILE_PICTURE_PROBLEM: &str =
    "must be null or the key of an image you uploaded to profile-pictures";

pub const NAME: Spec<Text> = Spec {
    name: "name",
    presence: Presence::Required,
    rule: Text(Len::between(1, 100)),
    doc: "1–100 characters after trimming",
    example: "\"Ann\"",
};
pub const PROFILE_PICTURE: Spec<Key> = Spec {
    name: "profilePicture",
    presence: Presence::Nullable,
    rule: Key(PROFILE_PICTURE_PROBLEM),
    doc: "The key of an image the user uploaded to `profile-pictures`; `null` removes the picture",
    example: "\"user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.png\"",
};
pub const DIETARY_RESTRICTIONS: Spec<TextList> = Spec {
    name: "dietaryRestrictions",
    presence: Presence::Required,
    rule: TextList {
        max_items: 20,
        item: Len::between(1, 50),
    },
    doc: "At most 20 strings of 1–50 characters each (trimmed); replaces the list",
    example: "[\"Vegetarian\"]",
};
pub const NOTIFICATIONS: Spec<Flag> = Spec {
    name: "notifications",
    presence: Presence::Required,
    rule: Flag,
    doc: "",
    example: "true",
};
pub const TIMEZONE: Spec<Zone> = Spec {
    name: "timezone",
    presence: Presence::Required,
    rule: Zone,
    doc: "An IANA time zone name: it decides the user's day",
    example: "\"Europe/Berlin\"",
};
pub const EXERCISE_CALORIES: Spec<Choice> = Spec {
    name: "exerciseCalories",
    presence: Presence::Required,
    rule: Choice(ExerciseCalories::NAMES),
    doc: "How much of the day's activity is added back to its calorie budget: none (the default), half or all",
    example: "\"half\"",
};
pub const WATER_GOAL: Spec<Integer> = Spec {
    name: "waterGoal",
    presence: Presence::Required,
    rule: Integer {
        min: 500,
        max: 10_000,
    },
    doc: "Millilitres a day (default 2000)",
    example: "2500",
};
const NUTRITION_GOALS: Nested = Nested {
    name: "nutritionGoals",
    presence: Presence::Required,
    body: &goals::BODY,
    mode: Mode::Create,
    doc: "Exactly as `PUT /nutrition-goals` takes them: all four",
};

/// The preferences of `PUT /profile`.
pub static PREFERENCES_BODY: Body = Body {
    fields: &[
        &DIETARY_RESTRICTIONS,
        &NUTRITION_GOALS,
        &NOTIFICATIONS,
        &TIMEZONE,
        &EXERCISE_CALORIES,
        &WATER_GOAL,
    ],
    unknown: Unknown::Deny,
    doc: "Any of the preferences, at least one",
};

const PREFERENCES: Nested = Nested {
    name: "preferences",
    presence: Presence::Required,
    body: &PREFERENCES_BODY,
    mode: Mode::Change,
    doc: "Any of the preferences, at least one",
};

/// The body of `PUT /profile`.
pub static BODY: Body = Body {
    fields: &[&NAME, &PROFILE_PICTURE, &PREFERENCES],
    unknown: Unknown::Deny,
    doc: "Any of the name, the profile picture and the preferences, at least one; what is absent stays as it is.",
};

crate::body_schema!(ProfileUpdate, "ProfileUpdate", BODY, Mode::Change);

impl ProfileUpdate {
    /// Validates the body of `PUT /profile` for the user `owner`. It must change something,
    /// and names no field the contract does not, at any level. Whether the picture is one of
    /// the user's uploads is for the caller to check against the store.
    pub fn read(body: &Value, owner: &str) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, Mode::Change)?;
        let name = fields.read(&NAME).value();
        let profile_picture = match fields.read(&PROFILE_PICTURE) {
            Field::Value(key) if key.owner() != owner => {
                fields.reject(PROFILE_PICTURE.name, PROFILE_PICTURE_PROBLEM);
                None
            }
            field => field.update(),
        };
        let preferences = match fields.nested(&PREFERENCES) {
            Field::Value(mut nested) => {
                let preferences = PreferencesUpdate::read(&mut nested);
                fields.absorb(nested);
                preferences
            }
            _ => PreferencesUpdate::default(),
        };
        fields.finish()?;
        Ok(Self {
            name,
            profile_picture,
            preferences,
        })
    }

    /// Whether a column of `users` changes.
    pub fn changes_user(&self) -> bool {
        self.name.is_some() || self.profile_picture.is_some()
    }
}

impl PreferencesUpdate {
    fn read(fields: &mut Fields<'_>) -> Self {
        let dietary_restrictions = fields.read(&DIETARY_RESTRICTIONS).value();
        let nutrition_goals = match fields.nested(&NUTRITION_GOALS) {
            Field::Value(mut nested) => {
                let goals = NutritionGoals::read(&mut nested);
                fields.absorb(nested);
                goals
            }
            _ => None,
        };
        let notifications = fields.read(&NOTIFICATIONS).value();
        let timezone = fields.read(&TIMEZONE).value();
        let exercise_calories = fields
            .read(&EXERCISE_CALORIES)
            .value()
            .and_then(ExerciseCalories::from_name);
        let water_goal = fields.read(&WATER_GOAL).value();
        Self {
            dietary_restrictions,
            nutrition_goals,
            notifications,
            timezone,
            exercise_calories,
            water_goal,
        }
    }

    /// Whether a column of `user_preferences` changes.
    pub fn changes_anything(&self) -> bool {
        self.dietary_restrictions.is_some()
            || self.nutrition_goals.is_some()
            || self.notifications.is_some()
            || self.timezone.is_some()
            || self.exercise_calories.is_some()
            || self.water_goal.is_some()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::{Error, FieldErrors};

    const OWNER: &str = "user-1";

    fn problems(body: Value) -> FieldErrors {
        match ProfileUpdate::read(&body, OWNER) {
            Err(Error::Validation(problems)) => problems,
            other => panic!("expected a validation error for {body}, got {other:?}"),
        }
    }

    #[test]
    fn a_full_update_is_read() {
        let update = ProfileUpdate::read(
            &json!({
                "name": "  Ann  ",
                "profilePicture": "user-1/3b0c.png",
                "preferences": {
                    "dietaryRestrictions": [" Vegetarian ", "Halal"],
                    "nutritionGoals": {"calories": 1800, "protein": 90, "carbs": 200, "fat": 60},
                    "notifications": false,
                    "timezone": "Pacific/Auckland"
                }
            }),
            OWNER,
        )
        .unwrap();
        assert_eq!(update.name.as_deref(), Some("Ann"));
        assert_eq!(
            update.profile_picture,
            Some(ObjectKey::parse("user-1/3b0c.png"))
        );
        assert!(update.changes_user());
        let preferences = &update.preferences;
        assert_eq!(
            preferences.dietary_restrictions,
            Some(vec!["Vegetarian".to_owned(), "Halal".to_owned()])
        );
        assert_eq!(
            preferences.nutrition_goals.map(|g| g.calories),
            Some(1800.0)
        );
        assert_eq!(preferences.notifications, Some(false));
        assert_eq!(
            preferences.timezone.map(|zone| zone.name()),
            Some("Pacific/Auckland")
        );
    }

    #[test]
    fn a_partial_update_leaves_the_rest_alone() {
        let update = ProfileUpdate::read(&json!({"profilePicture": null}), OWNER).unwrap();
        assert_eq!(update.profile_picture, Some(None));
        assert_eq!(update.name, None);
        assert!(!update.preferences.changes_anything());

        let update =
            ProfileUpdate::read(&json!({"preferences": {"notifications": true}}), OWNER).unwrap();
        assert!(!update.changes_user());
        assert!(update.preferences.changes_anything());
        assert_eq!(update.preferences.timezone, None);
    }

    #[test]
    fn an_update_must_change_something() {
        assert_eq!(
            problems(json!({}))["body"],
            "must change at least one of: name, profilePicture, preferences"
        );
        assert_eq!(
            problems(json!({"preferences": {}}))["preferences"],
            "must change at least one of: dietaryRestrictions, nutritionGoals, notifications, \
             timezone, exerciseCalories, waterGoal"
        );
        assert!(problems(json!([])).contains_key("body"));
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        let found = problems(json!({
            "email": "x@example.com",
            "preferences": {
                "theme": "dark",
                "nutritionGoals": {"calories": 2000, "protein": 100, "carbs": 250, "fat": 70, "sugar": 1}
            }
        }));
        assert_eq!(
            found.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "email",
                "preferences.nutritionGoals.sugar",
                "preferences.theme"
            ]
        );
        assert!(found.values().all(|problem| problem == "unknown field"));
    }

    #[test]
    fn wrong_types_and_values_name_their_fields() {
        let found = problems(json!({
            "name": "   ",
            "profilePicture": 7,
            "preferences": {
                "dietaryRestrictions": "Vegan",
                "nutritionGoals": {"calories": "2000", "protein": 100, "carbs": 250},
                "notifications": "yes",
                "timezone": "Mars/Olympus_Mons"
            }
        }));
        for field in [
            "name",
            "profilePicture",
            "preferences.dietaryRestrictions",
            "preferences.nutritionGoals.calories",
            "preferences.nutritionGoals.fat",
            "preferences.notifications",
            "preferences.timezone",
        ] {
            assert!(found.contains_key(field), "{field} in {found:?}");
        }
        assert_eq!(found.len(), 7);
        assert_eq!(problems(json!({"name": "x".repeat(101)})).len(), 1);
        assert_eq!(problems(json!({"name": null}))["name"], "must not be null");
        assert_eq!(
            problems(json!({"preferences": {"nutritionGoals": null}}))["preferences.nutritionGoals"],
            "must not be null"
        );
        assert_eq!(
            problems(json!({"preferences": {"nutritionGoals": [2000]}}))["preferences.nutritionGoals"],
            "must be an object"
        );
        assert_eq!(
            problems(json!({"preferences": {"dietaryRestrictions": vec!["x"; 21]}})).len(),
            1
        );
        assert_eq!(
            problems(json!({"preferences": {"dietaryRestrictions": ["x".repeat(51)]}})).len(),
            1
        );
    }

    #[test]
    fn a_picture_must_be_a_key_of_the_users_own() {
        for key in [
            "user-2/3b0c.png",
            "../etc/passwd",
            "user-1/../x.png",
            "3b0c.png",
            "",
        ] {
            assert_eq!(
                problems(json!({"profilePicture": key}))["profilePicture"],
                PROFILE_PICTURE_PROBLEM,
                "{key}"
            );
        }
    }
}
