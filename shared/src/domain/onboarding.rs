//! Onboarding: the body of `POST /onboarding` and the nutrition goals computed from it.
//!
//! The computation (CONTRACT §3, documented in the README with its sources):
//! - resting energy, Mifflin–St Jeor (1990): `10·kg + 6.25·cm − 5·age + 5` for men, `− 161`
//!   for women, the mean of the two (`− 78`) for `other`;
//! - × the activity factor (1.2 / 1.375 / 1.55 / 1.725 / 1.9), + the goal's adjustment
//!   (−500 / 0 / +500 kcal), rounded to the nearest 10 kcal and clamped to 1200–4000;
//! - protein `round(kg × 2.0 / 1.6 / 1.8)` g (lose / maintain / gain), fat
//!   `round(kcal × 0.25 / 9)` g, carbs the remaining energy `round((kcal − 4·protein − 9·fat) / 4)`
//!   g computed after protein is clamped; each macro clamped into its `PUT /nutrition-goals`
//!   bounds, so computed goals always pass that validation.
//!
//! `round` is half away from zero; `kg` is the current weight.

use serde_json::Value;

use super::goals::{self, NutritionGoals};
use crate::error::{Error, Result};
use crate::time::amount;
use crate::validate::spec::{Choice, Integer, Number};
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

/// Years.
pub const AGE: Spec<Integer> = Spec {
    name: "age",
    presence: Presence::Required,
    rule: Integer { min: 13, max: 120 },
    doc: "Years",
    example: "30",
};
pub const GENDER: Spec<Choice> = Spec {
    name: "gender",
    presence: Presence::Required,
    rule: Choice(Gender::NAMES),
    doc: "`other` takes the mean of the formula's two constants",
    example: "\"female\"",
};
/// Centimetres.
pub const HEIGHT: Spec<Number> = Spec {
    name: "height",
    presence: Presence::Required,
    rule: Number {
        min: 50.0,
        max: 272.0,
    },
    doc: "Centimetres",
    example: "165",
};
/// Kilograms: the current weight, which `POST /onboarding` also records as a weigh-in.
pub const CURRENT_WEIGHT: Spec<Number> = Spec {
    name: "currentWeight",
    presence: Presence::Required,
    rule: Number {
        min: 20.0,
        max: 500.0,
    },
    doc: "Kilograms; also recorded as a weigh-in at the time of the request",
    example: "60",
};
pub const TARGET_WEIGHT: Spec<Number> = Spec {
    name: "targetWeight",
    presence: Presence::Required,
    rule: Number {
        min: 20.0,
        max: 500.0,
    },
    doc: "Kilograms",
    example: "58",
};
pub const GOAL: Spec<Choice> = Spec {
    name: "goal",
    presence: Presence::Required,
    rule: Choice(FitnessGoal::NAMES),
    doc: "What the user wants their weight to do",
    example: "\"lose_weight\"",
};
pub const ACTIVITY_LEVEL: Spec<Choice> = Spec {
    name: "activityLevel",
    presence: Presence::Required,
    rule: Choice(ActivityLevel::NAMES),
    doc: "From little or no exercise (`sedentary`) to very hard exercise and a physical job (`extra_active`)",
    example: "\"moderately_active\"",
};

/// The body of `POST /onboarding`: every field required; others are ignored.
pub static BODY: Body = Body {
    fields: &[
        &AGE,
        &GENDER,
        &HEIGHT,
        &CURRENT_WEIGHT,
        &TARGET_WEIGHT,
        &GOAL,
        &ACTIVITY_LEVEL,
    ],
    unknown: Unknown::Ignore,
    doc: "The onboarding answers; the goals are computed from them.",
};

/// The calorie goal onboarding computes stays within this (kcal per day).
pub const CALORIE_TARGET: Number = Number {
    min: 1200.0,
    max: 4000.0,
};

/// An enumeration the API names in `snake_case`, with its names for validation.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

named_enum! {
    Gender {
        Male = "male",
        Female = "female",
        Other = "other",
    }
}

named_enum! {
    /// What the user wants their weight to do.
    FitnessGoal {
        LoseWeight = "lose_weight",
        MaintainWeight = "maintain_weight",
        GainWeight = "gain_weight",
    }
}

named_enum! {
    ActivityLevel {
        /// Little or no exercise.
        Sedentary = "sedentary",
        /// Light exercise 1–3 days a week.
        LightlyActive = "lightly_active",
        /// Moderate exercise 3–5 days a week.
        ModeratelyActive = "moderately_active",
        /// Hard exercise 6–7 days a week.
        VeryActive = "very_active",
        /// Very hard exercise and a physical job.
        ExtraActive = "extra_active",
    }
}

impl Gender {
    /// The sex-specific constant of Mifflin–St Jeor; `other` takes the mean of the two.
    fn resting_energy_offset(self) -> f64 {
        match self {
            Gender::Male => 5.0,
            Gender::Female => -161.0,
            Gender::Other => (5.0 - 161.0) / 2.0,
        }
    }
}

impl ActivityLevel {
    /// The physical activity level that multiplies resting energy.
    fn factor(self) -> f64 {
        match self {
            ActivityLevel::Sedentary => 1.2,
            ActivityLevel::LightlyActive => 1.375,
            ActivityLevel::ModeratelyActive => 1.55,
            ActivityLevel::VeryActive => 1.725,
            ActivityLevel::ExtraActive => 1.9,
        }
    }
}

impl FitnessGoal {
    /// kcal per day added to the energy need.
    pub fn calorie_adjustment(self) -> f64 {
        match self {
            FitnessGoal::LoseWeight => -500.0,
            FitnessGoal::MaintainWeight => 0.0,
            FitnessGoal::GainWeight => 500.0,
        }
    }

    /// Grams of protein per kilogram of body weight.
    fn protein_per_kg(self) -> f64 {
        match self {
            FitnessGoal::LoseWeight => 2.0,
            FitnessGoal::MaintainWeight => 1.6,
            FitnessGoal::GainWeight => 1.8,
        }
    }
}

/// The answers of `POST /onboarding`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Onboarding {
    pub age: i32,
    pub gender: Gender,
    /// Centimetres.
    pub height: f64,
    /// Kilograms.
    pub current_weight: f64,
    /// Kilograms.
    pub target_weight: f64,
    pub goal: FitnessGoal,
    pub activity_level: ActivityLevel,
}

crate::body_schema!(Onboarding, "Onboarding", BODY, Mode::Create);

impl Onboarding {
    /// Validates the body of `POST /onboarding`. Measurements are kept to 2 decimals, as they
    /// are stored. Fields the contract does not name are ignored.
    pub fn read(body: &Value) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, Mode::Create)?;
        let onboarding = Self::read_fields(&mut fields);
        fields.finish()?;
        // Every field is required: when no problem was recorded, each one holds a value.
        onboarding.ok_or_else(|| Error::internal("onboarding validated without its values"))
    }

    fn read_fields(fields: &mut Fields<'_>) -> Option<Self> {
        let age = fields.read(&AGE).value();
        let gender = fields.read(&GENDER).value().and_then(Gender::from_name);
        let mut measure = |spec| fields.read(spec).value().map(amount::round);
        let height = measure(&HEIGHT);
        let current_weight = measure(&CURRENT_WEIGHT);
        let target_weight = measure(&TARGET_WEIGHT);
        let goal = fields.read(&GOAL).value().and_then(FitnessGoal::from_name);
        let activity_level = fields
            .read(&ACTIVITY_LEVEL)
            .value()
            .and_then(ActivityLevel::from_name);
        Some(Self {
            age: i32::try_from(age?).ok()?,
            gender: gender?,
            height: height?,
            current_weight: current_weight?,
            target_weight: target_weight?,
            goal: goal?,
            activity_level: activity_level?,
        })
    }

    /// Resting energy (kcal per day), Mifflin–St Jeor.
    pub fn resting_energy(&self) -> f64 {
        10.0 * self.current_weight + 6.25 * self.height - 5.0 * f64::from(self.age)
            + self.gender.resting_energy_offset()
    }

    /// The daily goals this user should start with.
    pub fn goals(&self) -> NutritionGoals {
        let need =
            self.resting_energy() * self.activity_level.factor() + self.goal.calorie_adjustment();
        macro_split(calorie_goal(need), self.current_weight, self.goal)
    }
}

/// kcal to the nearest 10, half away from zero.
pub fn nearest_ten(kcal: f64) -> f64 {
    (kcal / 10.0).round() * 10.0
}

/// The calorie goal of a daily energy need, as onboarding sets it (and the recommendation
/// reuses): to the nearest 10 kcal, clamped to 1200–4000.
pub fn calorie_goal(need: f64) -> f64 {
    CALORIE_TARGET.clamp(nearest_ten(need))
}

/// The macros of a calorie goal, as onboarding splits it (and the recommendation reuses):
/// protein `round(kg × 2.0 / 1.6 / 1.8)` g for lose / maintain / gain, fat `round(kcal × 0.25 /
/// 9)` g, carbs the remaining energy `round((kcal − 4·protein − 9·fat) / 4)` g with the clamped
/// protein, each clamped into its `PUT /nutrition-goals` bounds.
pub fn macro_split(calories: f64, kg: f64, goal: FitnessGoal) -> NutritionGoals {
    let protein = goals::PROTEIN
        .rule
        .clamp((kg * goal.protein_per_kg()).round());
    let fat = goals::FAT.rule.clamp((calories * 0.25 / 9.0).round());
    let carbs = goals::CARBS
        .rule
        .clamp(((calories - 4.0 * protein - 9.0 * fat) / 4.0).round());
    NutritionGoals {
        calories,
        protein,
        carbs,
        fat,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::error::Error;

    fn person(
        age: i32,
        gender: Gender,
        height: f64,
        weight: f64,
        goal: FitnessGoal,
        activity_level: ActivityLevel,
    ) -> Onboarding {
        Onboarding {
            age,
            gender,
            height,
            current_weight: weight,
            target_weight: weight,
            goal,
            activity_level,
        }
    }

    fn goals(calories: f64, protein: f64, carbs: f64, fat: f64) -> NutritionGoals {
        NutritionGoals {
            calories,
            protein,
            carbs,
            fat,
        }
    }

    /// The contract's example user: 30, female, 165 cm, 60 kg, losing weight, moderately active.
    /// BMR 600 + 1031.25 − 150 − 161 = 1320.25; × 1.55 = 2046.39; − 500 = 1546.39 → 1550 kcal.
    /// Protein 60 × 2.0 = 120 g; fat 1550 × 0.25 / 9 = 43.06 → 43 g;
    /// carbs (1550 − 480 − 387) / 4 = 170.75 → 171 g.
    #[test]
    fn the_contracts_example_user() {
        let example = person(
            30,
            Gender::Female,
            165.0,
            60.0,
            FitnessGoal::LoseWeight,
            ActivityLevel::ModeratelyActive,
        );
        assert_eq!(example.resting_energy(), 1320.25);
        assert_eq!(example.goals(), goals(1550.0, 120.0, 171.0, 43.0));
    }

    #[test]
    fn men_other_and_every_goal() {
        // 10·80 + 6.25·180 − 5·40 + 5 = 1730; × 1.725 = 2984.25 → 2980 when maintaining.
        let man = person(
            40,
            Gender::Male,
            180.0,
            80.0,
            FitnessGoal::MaintainWeight,
            ActivityLevel::VeryActive,
        );
        assert_eq!(man.resting_energy(), 1730.0);
        // Protein 128; fat 2980 / 36 = 82.78 → 83; carbs (2980 − 512 − 747) / 4 = 430.25 → 430.
        assert_eq!(man.goals(), goals(2980.0, 128.0, 430.0, 83.0));
        // Gaining: 3484.25 → 3480; protein 80 × 1.8 = 144; fat 96.67 → 97;
        // carbs (3480 − 576 − 873) / 4 = 507.75 → 508.
        let gaining = Onboarding {
            goal: FitnessGoal::GainWeight,
            ..man.clone()
        };
        assert_eq!(gaining.goals(), goals(3480.0, 144.0, 508.0, 97.0));
        // `other` is the mean of the two constants: 1730 − 5 − 78 = 1647.
        let other = Onboarding {
            gender: Gender::Other,
            ..man
        };
        assert_eq!(other.resting_energy(), 1647.0);
    }

    #[test]
    fn every_activity_factor() {
        // 30-year-old man, 180 cm, 80 kg: BMR 1780, maintaining.
        let expected = [
            (ActivityLevel::Sedentary, 2140.0),        // 2136
            (ActivityLevel::LightlyActive, 2450.0),    // 2447.5
            (ActivityLevel::ModeratelyActive, 2760.0), // 2759
            (ActivityLevel::VeryActive, 3070.0),       // 3070.5
            (ActivityLevel::ExtraActive, 3380.0),      // 3382
        ];
        for (level, calories) in expected {
            let someone = person(
                30,
                Gender::Male,
                180.0,
                80.0,
                FitnessGoal::MaintainWeight,
                level,
            );
            assert_eq!(someone.goals().calories, calories, "{level:?}");
        }
    }

    #[test]
    fn the_smallest_person_is_clamped_up() {
        // Resting energy is negative here: the goal is the floor, the macros stay in bounds.
        let tiny = person(
            120,
            Gender::Female,
            50.0,
            20.0,
            FitnessGoal::LoseWeight,
            ActivityLevel::Sedentary,
        );
        assert!(tiny.resting_energy() < 0.0);
        // Protein 40; fat 1200 / 36 = 33.33 → 33; carbs (1200 − 160 − 297) / 4 = 185.75 → 186.
        assert_eq!(tiny.goals(), goals(1200.0, 40.0, 186.0, 33.0));
    }

    #[test]
    fn the_largest_person_is_clamped_down() {
        let huge = person(
            13,
            Gender::Male,
            272.0,
            500.0,
            FitnessGoal::GainWeight,
            ActivityLevel::ExtraActive,
        );
        // Protein 900 → 500; fat 4000 / 36 = 111.11 → 111; carbs (4000 − 2000 − 999) / 4 → 250.
        assert_eq!(huge.goals(), goals(4000.0, 500.0, 250.0, 111.0));
        // Losing weight at 500 kg on the floor of 1200 kcal leaves no energy for carbs.
        let losing = person(
            120,
            Gender::Female,
            50.0,
            500.0,
            FitnessGoal::LoseWeight,
            ActivityLevel::Sedentary,
        );
        // BMR 5000 + 312.5 − 600 − 161 = 4551.5; × 1.2 − 500 = 4961.8 → 4000 kcal.
        assert_eq!(losing.goals(), goals(4000.0, 500.0, 250.0, 111.0));
        let light = person(
            120,
            Gender::Female,
            50.0,
            150.0,
            FitnessGoal::LoseWeight,
            ActivityLevel::Sedentary,
        );
        // BMR 1500 + 312.5 − 600 − 161 = 1051.5; × 1.2 − 500 = 761.8 → 1200 kcal; protein 300;
        // carbs (1200 − 1200 − 297) / 4 < 0 → 20.
        assert_eq!(light.goals(), goals(1200.0, 300.0, 20.0, 33.0));
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        // 30-year-old woman, 165 cm, 55.5 kg: BMR 555 + 1031.25 − 150 − 161 = 1275.25;
        // × 1.2 = 1530.3 → 1530 kcal. Fat 1530 × 0.25 / 9 is exactly 42.5 g: rounded up.
        // Protein 55.5 × 1.6 = 88.8 → 89; carbs (1530 − 356 − 387) / 4 = 196.75 → 197.
        let someone = person(
            30,
            Gender::Female,
            165.0,
            55.5,
            FitnessGoal::MaintainWeight,
            ActivityLevel::Sedentary,
        );
        assert_eq!(someone.goals(), goals(1530.0, 89.0, 197.0, 43.0));
        // 25-year-old woman, 160 cm, 55 kg: BMR 1264; × 1.375 = 1738 → 1740.
        let other = person(
            25,
            Gender::Female,
            160.0,
            55.0,
            FitnessGoal::MaintainWeight,
            ActivityLevel::LightlyActive,
        );
        assert_eq!(other.goals().calories, 1740.0);
    }

    fn read(body: Value) -> Result<Onboarding> {
        Onboarding::read(&body)
    }

    fn valid() -> Value {
        json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
               "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"})
    }

    #[test]
    fn a_valid_body_is_read() {
        let onboarding = read(valid()).unwrap();
        assert_eq!(onboarding.age, 30);
        assert_eq!(onboarding.gender, Gender::Female);
        assert_eq!(onboarding.target_weight, 58.0);
        assert_eq!(onboarding.goal, FitnessGoal::LoseWeight);
        assert_eq!(onboarding.activity_level, ActivityLevel::ModeratelyActive);
        let mut extra = valid();
        extra["nickname"] = json!("ignored");
        extra["height"] = json!(165.456);
        assert_eq!(read(extra).unwrap().height, 165.46);
    }

    #[test]
    fn the_edges_of_every_range_are_accepted_and_beyond_rejected() {
        let edges = [
            ("age", json!(13), json!(12)),
            ("age", json!(120), json!(121)),
            ("height", json!(50), json!(49.99)),
            ("height", json!(272), json!(272.01)),
            ("currentWeight", json!(20), json!(19.99)),
            ("currentWeight", json!(500), json!(500.01)),
            ("targetWeight", json!(20), json!(19)),
            ("targetWeight", json!(500), json!(501)),
        ];
        for (field, inside, outside) in edges {
            let mut body = valid();
            body[field] = inside.clone();
            assert!(read(body.clone()).is_ok(), "{field} = {inside}");
            body[field] = outside.clone();
            let problems = match read(body) {
                Err(Error::Validation(problems)) => problems,
                other => panic!("{field} = {outside}: {other:?}"),
            };
            assert_eq!(problems.keys().collect::<Vec<_>>(), [field]);
        }
    }

    #[test]
    fn every_field_is_required_and_typed() {
        let Err(Error::Validation(problems)) = read(json!({})) else {
            panic!("an empty body is invalid")
        };
        assert_eq!(problems.len(), 7);
        assert!(problems.values().all(|problem| problem == "is required"));

        let wrong = json!({"age": 30.5, "gender": "Female", "height": "165", "currentWeight": true,
                           "targetWeight": null, "goal": "bulk", "activityLevel": 3});
        let Err(Error::Validation(problems)) = read(wrong) else {
            panic!("wrong types are invalid")
        };
        assert_eq!(problems.len(), 7);
        assert_eq!(problems["age"], "must be an integer between 13 and 120");
        assert_eq!(problems["gender"], "must be one of: male, female, other");
        assert_eq!(problems["height"], "must be a number between 50 and 272");
        assert_eq!(problems["targetWeight"], "must not be null");
        assert_eq!(
            problems["activityLevel"],
            "must be one of: sedentary, lightly_active, moderately_active, very_active, extra_active"
        );
    }

    #[test]
    fn names_round_trip() {
        for name in ActivityLevel::NAMES {
            assert_eq!(ActivityLevel::from_name(name).unwrap().as_str(), *name);
        }
        for name in FitnessGoal::NAMES {
            assert_eq!(FitnessGoal::from_name(name).unwrap().as_str(), *name);
        }
        for name in Gender::NAMES {
            assert_eq!(Gender::from_name(name).unwrap().as_str(), *name);
        }
    }

    fn any_onboarding() -> impl Strategy<Value = Onboarding> {
        let gender = prop::sample::select(vec![Gender::Male, Gender::Female, Gender::Other]);
        let goal = prop::sample::select(vec![
            FitnessGoal::LoseWeight,
            FitnessGoal::MaintainWeight,
            FitnessGoal::GainWeight,
        ]);
        let level = prop::sample::select(vec![
            ActivityLevel::Sedentary,
            ActivityLevel::LightlyActive,
            ActivityLevel::ModeratelyActive,
            ActivityLevel::VeryActive,
            ActivityLevel::ExtraActive,
        ]);
        (
            13i32..=120,
            gender,
            5000u32..=27200,
            2000u32..=50000,
            goal,
            level,
        )
            .prop_map(|(age, gender, height, weight, goal, level)| {
                // Inputs at the precision they are accepted with: 2 decimals.
                person(
                    age,
                    gender,
                    f64::from(height) / 100.0,
                    f64::from(weight) / 100.0,
                    goal,
                    level,
                )
            })
    }

    proptest! {
        #[test]
        fn computed_goals_always_pass_the_goals_validation(onboarding in any_onboarding()) {
            let computed = onboarding.goals();
            prop_assert!(CALORIE_TARGET.contains(computed.calories));
            prop_assert_eq!(computed.calories % 10.0, 0.0);
            for grams in [computed.protein, computed.carbs, computed.fat] {
                prop_assert_eq!(grams.fract(), 0.0);
            }
            // What PUT /nutrition-goals says of them.
            let body = serde_json::to_value(computed).unwrap();
            prop_assert_eq!(NutritionGoals::from_body(&body).ok(), Some(computed), "{}", body);
        }

        #[test]
        fn more_activity_never_lowers_the_calorie_goal(onboarding in any_onboarding()) {
            let levels = [
                ActivityLevel::Sedentary,
                ActivityLevel::LightlyActive,
                ActivityLevel::ModeratelyActive,
                ActivityLevel::VeryActive,
                ActivityLevel::ExtraActive,
            ];
            let calories: Vec<f64> = levels
                .iter()
                .map(|level| Onboarding { activity_level: *level, ..onboarding.clone() }.goals().calories)
                .collect();
            prop_assert!(calories.windows(2).all(|pair| pair[0] <= pair[1]), "{calories:?}");
        }
    }
}
