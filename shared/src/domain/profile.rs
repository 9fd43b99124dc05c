//! The profile: what `GET /profile` answers (and `PUT /profile`, and the export, reuse), and
//! the changes `PUT /profile` accepts.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::badges::EarnedBadge;
use super::goals::NutritionGoals;
use crate::error::{Error, Result};
use crate::objects::ObjectKey;
use crate::time::{UserZone, amount};
use crate::validate::{Field, Fields, Len, Presence};

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
}

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
}

/// The body of `PUT /profile`: any of these fields, at least one; what is absent stays as it is.
/// Unknown fields are rejected at every level.
#[derive(Clone, Debug, Default, PartialEq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdate {
    /// 1–100 characters after trimming.
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// The key of an image the user uploaded to `profile-pictures`; `null` removes the
    /// picture.
    // `Some(None)` removes it, `None` leaves it.
    #[schema(value_type = Option<String>, required = false)]
    pub profile_picture: Option<Option<ObjectKey>>,
    /// At least one preference.
    #[schema(value_type = PreferencesUpdate, required = false)]
    pub preferences: PreferencesUpdate,
}

/// The preferences a `PUT /profile` changes: any of them, at least one.
#[derive(Clone, Debug, Default, PartialEq, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesUpdate {
    /// At most 20 strings of 1–50 characters each (trimmed); replaces the list.
    #[schema(value_type = Vec<String>, required = false, max_items = 20)]
    pub dietary_restrictions: Option<Vec<String>>,
    /// Exactly as `PUT /nutrition-goals` takes them: all four.
    #[schema(value_type = NutritionGoals, required = false)]
    pub nutrition_goals: Option<NutritionGoals>,
    #[schema(value_type = bool, required = false)]
    pub notifications: Option<bool>,
    /// An IANA time zone name (`Europe/Berlin`, `UTC`): it decides the user's day.
    #[schema(value_type = String, required = false, example = "Europe/Berlin")]
    pub timezone: Option<UserZone>,
}

/// What a `profilePicture` must be.
pub const PROFILE_PICTURE_PROBLEM: &str =
    "must be null or the key of an image you uploaded to profile-pictures";

const NAME: Len = Len::between(1, 100);
const MAX_RESTRICTIONS: usize = 20;
const RESTRICTION: Len = Len::between(1, 50);

impl ProfileUpdate {
    /// Validates the body of `PUT /profile` for the user `owner`. It must change something,
    /// and names no field the contract does not, at any level. Whether the picture is one of
    /// the user's uploads is for the caller to check against the store.
    pub fn read(body: &Value, owner: &str) -> Result<Self> {
        let mut fields = Fields::of(body)?;
        if fields.is_empty() {
            return Err(Error::field(
                "body",
                "must name at least one field to change",
            ));
        }
        fields.deny_unknown(&["name", "profilePicture", "preferences"]);
        let name = fields.text("name", Presence::Optional, NAME).value();
        let profile_picture = fields
            .parsed(
                "profilePicture",
                Presence::Nullable,
                PROFILE_PICTURE_PROBLEM,
                |raw| ObjectKey::parse_owned(raw, owner),
            )
            .update();
        let preferences = match fields.object("preferences", Presence::Optional) {
            Field::Value(nested) if nested.is_empty() => {
                fields.reject("preferences", "must name at least one preference to change");
                PreferencesUpdate::default()
            }
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
        fields.deny_unknown(&[
            "dietaryRestrictions",
            "nutritionGoals",
            "notifications",
            "timezone",
        ]);
        let dietary_restrictions = fields
            .text_list(
                "dietaryRestrictions",
                Presence::Optional,
                MAX_RESTRICTIONS,
                RESTRICTION,
            )
            .value();
        let nutrition_goals = match fields.object("nutritionGoals", Presence::Optional) {
            Field::Value(mut nested) => {
                let goals = NutritionGoals::read(&mut nested);
                fields.absorb(nested);
                goals
            }
            _ => None,
        };
        let notifications = fields.boolean("notifications", Presence::Optional).value();
        let timezone = fields
            .parsed(
                "timezone",
                Presence::Optional,
                "must be an IANA time zone name, such as Europe/Berlin",
                |raw| raw.parse::<UserZone>().ok(),
            )
            .value();
        Self {
            dietary_restrictions,
            nutrition_goals,
            notifications,
            timezone,
        }
    }

    /// Whether a column of `user_preferences` changes.
    pub fn changes_anything(&self) -> bool {
        self.dietary_restrictions.is_some()
            || self.nutrition_goals.is_some()
            || self.notifications.is_some()
            || self.timezone.is_some()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::FieldErrors;

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
            "must name at least one field to change"
        );
        assert_eq!(
            problems(json!({"preferences": {}}))["preferences"],
            "must name at least one preference to change"
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
