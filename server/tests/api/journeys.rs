//! Journeys across the endpoints, driven only through the API: two users on opposite sides of
//! UTC set their zones, onboard, log meals near midnight UTC, change and delete them, and every
//! view of their diary (profile stats, the nutrition summary, the dashboard, streaks, badges,
//! the diary's day filter, the export) agrees with what was written, on each user's days.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests};

use crate::food_entries::{assert_totals_exact, post_entry};

/// The days every view is checked over: the meals' days and one empty day on either side.
const DAYS: [&str; 6] = [
    "2024-07-09",
    "2024-07-10",
    "2024-07-11",
    "2024-07-12",
    "2024-07-13",
    "2024-07-14",
];

/// A meal both users log at the same instant, and the day it belongs to for each of them
/// (in July Auckland is UTC+12 and Los Angeles UTC−7), written down by hand.
struct Meal {
    name: &'static str,
    at: &'static str,
    kiwi_day: &'static str,
    angeleno_day: &'static str,
    calories: f64,
    protein: Option<f64>,
    carbs: Option<f64>,
    fat: Option<f64>,
}

const MEALS: [Meal; 6] = [
    // Auckland 23:30 on the 10th; Los Angeles 04:30 on the 10th.
    Meal {
        name: "a",
        at: "2024-07-10T11:30:00Z",
        kiwi_day: "2024-07-10",
        angeleno_day: "2024-07-10",
        calories: 100.5,
        protein: Some(10.0),
        carbs: None,
        fat: Some(2.25),
    },
    // Auckland 00:30 on the 11th; Los Angeles 05:30 on the 10th.
    Meal {
        name: "b",
        at: "2024-07-10T12:30:00Z",
        kiwi_day: "2024-07-11",
        angeleno_day: "2024-07-10",
        calories: 200.25,
        protein: None,
        carbs: Some(30.0),
        fat: None,
    },
    // Auckland 18:30 on the 11th; Los Angeles 23:30 on the 10th.
    Meal {
        name: "c",
        at: "2024-07-11T06:30:00Z",
        kiwi_day: "2024-07-11",
        angeleno_day: "2024-07-10",
        calories: 400.0,
        protein: Some(20.5),
        carbs: Some(50.0),
        fat: Some(10.0),
    },
    // Auckland 19:30 on the 11th; Los Angeles 00:30 on the 11th.
    Meal {
        name: "d",
        at: "2024-07-11T07:30:00Z",
        kiwi_day: "2024-07-11",
        angeleno_day: "2024-07-11",
        calories: 800.0,
        protein: Some(40.0),
        carbs: None,
        fat: None,
    },
    // Auckland 11:30 on the 12th; Los Angeles 16:30 on the 11th.
    Meal {
        name: "e",
        at: "2024-07-11T23:30:00Z",
        kiwi_day: "2024-07-12",
        angeleno_day: "2024-07-11",
        calories: 1600.0,
        protein: None,
        carbs: Some(200.75),
        fat: Some(60.0),
    },
    // Auckland 12:30 on the 12th; Los Angeles 17:30 on the 11th.
    Meal {
        name: "f",
        at: "2024-07-12T00:30:00Z",
        kiwi_day: "2024-07-12",
        angeleno_day: "2024-07-11",
        calories: 3200.0,
        protein: Some(150.0),
        carbs: Some(300.0),
        fat: Some(120.5),
    },
];

/// An entry as the test knows it.
#[derive(Clone, Debug)]
struct Logged {
    id: String,
    name: &'static str,
    day: &'static str,
    amounts: [f64; 4],
}

/// What a user's diary should show: their goals, entries, longest streak and badges.
struct Diary {
    user: &'static str,
    goals: [f64; 4],
    logged: Vec<Logged>,
    longest_streak: u32,
    badges: Vec<&'static str>,
}

const DEFAULT_GOALS: [f64; 4] = [2000.0, 100.0, 250.0, 70.0];
const FIELDS: [&str; 4] = ["calories", "protein", "carbs", "fat"];

impl Diary {
    /// Per day with entries: the count and the sums (null amounts count as 0).
    fn days(&self) -> BTreeMap<&'static str, (i64, [f64; 4])> {
        let mut days: BTreeMap<&str, (i64, [f64; 4])> = BTreeMap::new();
        for entry in &self.logged {
            let (count, sums) = days.entry(entry.day).or_default();
            *count += 1;
            for (sum, amount) in sums.iter_mut().zip(entry.amounts) {
                *sum += amount;
            }
        }
        days
    }

    fn entry(&mut self, name: &str) -> &mut Logged {
        self.logged.iter_mut().find(|e| e.name == name).unwrap()
    }
}

async fn json_of(app: &TestApp, path: &str, user: &str) -> Value {
    let response = app.get(path, user).await;
    response.assert_status(200);
    response.json()
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("a number: {value}"))
}

/// Logs every meal for `user` (whose day of each is `day_of`), checking the badges each POST
/// earned.
async fn log_meals(
    app: &TestApp,
    diary: &mut Diary,
    day_of: fn(&Meal) -> &'static str,
    earned: &[(&str, &[&str])],
) {
    for meal in &MEALS {
        let mut body = json!({"name": meal.name, "calories": meal.calories,
            "mealType": "snack", "timestamp": meal.at});
        for (field, amount) in
            ["protein", "carbs", "fat"]
                .into_iter()
                .zip([meal.protein, meal.carbs, meal.fat])
        {
            if let Some(amount) = amount {
                body[field] = json!(amount);
            }
        }
        let created = post_entry(app, diary.user, body).await;
        let badges: Vec<&str> = created["badgesEarned"]
            .as_array()
            .unwrap()
            .iter()
            .map(|badge| badge["id"].as_str().unwrap())
            .collect();
        let expected = earned
            .iter()
            .find(|(name, _)| *name == meal.name)
            .map_or(&[][..], |(_, ids)| ids);
        assert_eq!(badges, expected, "{} {}", diary.user, meal.name);
        diary.logged.push(Logged {
            id: created["id"].as_str().unwrap().to_owned(),
            name: meal.name,
            day: day_of(meal),
            amounts: [
                meal.calories,
                meal.protein.unwrap_or_default(),
                meal.carbs.unwrap_or_default(),
                meal.fat.unwrap_or_default(),
            ],
        });
    }
}

/// Every view of the diary agrees with `diary`, day by day.
async fn assert_agrees(app: &TestApp, diary: &Diary) {
    let user = diary.user;
    let days = diary.days();
    let (entries, calories) = days.values().fold((0, 0.0), |(n, sum), (count, sums)| {
        (n + count, sum + sums[0])
    });

    let profile = json_of(app, "/profile", user).await;
    assert_eq!(
        profile["stats"]["totalEntries"], entries,
        "{user}: {profile}"
    );
    assert_eq!(
        number(&profile["stats"]["totalCalories"]),
        calories,
        "{user}"
    );
    assert_eq!(profile["stats"]["trackingDays"], days.len(), "{user}");
    let goals: Vec<f64> = FIELDS
        .iter()
        .map(|field| number(&profile["preferences"]["nutritionGoals"][field]))
        .collect();
    assert_eq!(goals, diary.goals, "{user}: the profile's goals");
    let profile_badges: BTreeSet<&str> = profile["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|badge| badge["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        profile_badges,
        diary.badges.iter().copied().collect(),
        "{user}"
    );

    let summary = json_of(
        app,
        &format!(
            "/nutrition-summary?startDate={}&endDate={}",
            DAYS[0],
            DAYS[DAYS.len() - 1]
        ),
        user,
    )
    .await;
    let summary = summary.as_array().unwrap();
    assert_eq!(summary.len(), DAYS.len());
    for (shown, date) in summary.iter().zip(DAYS) {
        let (count, sums) = days.get(date).copied().unwrap_or_default();
        assert_eq!(shown["date"], date, "{user}");
        assert_eq!(shown["entriesCount"], count, "{user} {date}");
        assert_eq!(shown["caloriesBurned"], 0);
        for (i, field) in FIELDS.iter().enumerate() {
            assert_eq!(
                number(&shown[format!("{field}Consumed")]),
                sums[i],
                "{user} {date} {field}"
            );
            assert_eq!(
                number(&shown[format!("{field}Goal")]),
                diary.goals[i],
                "{user} {date} {field} goal"
            );
        }

        let dashboard = json_of(app, &format!("/dashboard/summary?date={date}"), user).await;
        assert_eq!(dashboard["foodEntriesCount"], count, "{user} {date}");
        for (i, field) in FIELDS.iter().enumerate() {
            assert_eq!(
                number(&dashboard[format!("{field}Consumed")]),
                sums[i],
                "{user} {date} {field}"
            );
            let target = format!("target{}{}", field[..1].to_uppercase(), &field[1..]);
            assert_eq!(number(&dashboard[target]), diary.goals[i], "{user} {date}");
        }
        assert_eq!(
            number(&dashboard["caloriesRemaining"]),
            diary.goals[0] - sums[0],
            "{user} {date}"
        );

        // The diary's own day filter lists the same entries.
        let listed = json_of(app, &format!("/food-entries?date={date}"), user).await;
        let listed: BTreeSet<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["id"].as_str().unwrap())
            .collect();
        let logged: BTreeSet<&str> = diary
            .logged
            .iter()
            .filter(|entry| entry.day == date)
            .map(|entry| entry.id.as_str())
            .collect();
        assert_eq!(listed, logged, "{user} {date}");
    }

    // The meals are long past: no streak is current.
    assert_eq!(
        json_of(app, "/streaks", user).await,
        json!({"currentStreak": 0, "longestStreak": diary.longest_streak,
               "lastLoggedDate": days.keys().next_back()}),
        "{user}"
    );

    let badges = json_of(app, "/badges", user).await;
    let badges = badges.as_array().unwrap();
    let earned: Vec<&str> = badges
        .iter()
        .filter(|badge| badge["earned"] == true)
        .map(|badge| badge["id"].as_str().unwrap())
        .collect();
    assert_eq!(earned, diary.badges, "{user}");
    let progress = |id: &str| {
        badges.iter().find(|badge| badge["id"] == id).unwrap()["progress"]["current"].clone()
    };
    assert_eq!(progress("first_10_entries"), entries, "{user}");
    assert_eq!(progress("week_streak"), diary.longest_streak, "{user}");

    let export = json_of(app, "/export", user).await;
    assert_eq!(export["profile"], profile, "{user}");
    let exported: BTreeSet<&str> = export["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    let logged: BTreeSet<&str> = diary.logged.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(exported, logged, "{user}");
}

async fn set_zone(app: &TestApp, user: &str, zone: &str) {
    let response = app
        .put("/profile", user, json!({"preferences": {"timezone": zone}}))
        .await;
    response.assert_status(200);
    assert_eq!(response.json()["preferences"]["timezone"], zone);
}

async fn onboard(app: &TestApp, user: &str, answers: Value, goals: [f64; 4]) {
    let response = app.post("/onboarding", user, answers).await;
    response.assert_status(200);
    let computed = &response.json()["nutritionGoals"];
    let computed: Vec<f64> = FIELDS.iter().map(|f| number(&computed[f])).collect();
    assert_eq!(computed, goals, "{user}");
}

async fn two_users_across_midnight_utc(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "kiwi", "Pacific/Auckland").await;
    set_zone(&app, "angeleno", "America/Los_Angeles").await;
    // The contract's example: its goals are what every summary of kiwi's uses from now on.
    onboard(
        &app,
        "kiwi",
        json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
               "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"}),
        [1550.0, 120.0, 171.0, 43.0],
    )
    .await;
    let mut kiwi = Diary {
        user: "kiwi",
        goals: [1550.0, 120.0, 171.0, 43.0],
        logged: Vec::new(),
        longest_streak: 0,
        badges: Vec::new(),
    };
    let mut angeleno = Diary {
        user: "angeleno",
        goals: DEFAULT_GOALS,
        logged: Vec::new(),
        longest_streak: 0,
        badges: Vec::new(),
    };
    assert_agrees(&app, &kiwi).await;

    // The same six instants: three days in Auckland (the 12th completes a run of three), two
    // in Los Angeles.
    log_meals(
        &app,
        &mut kiwi,
        |meal| meal.kiwi_day,
        &[("a", &["first_entry"]), ("e", &["streak_3"])],
    )
    .await;
    kiwi.longest_streak = 3;
    kiwi.badges = vec!["first_entry", "streak_3"];
    log_meals(
        &app,
        &mut angeleno,
        |meal| meal.angeleno_day,
        &[("a", &["first_entry"])],
    )
    .await;
    angeleno.longest_streak = 2;
    angeleno.badges = vec!["first_entry"];
    assert_agrees(&app, &kiwi).await;
    assert_agrees(&app, &angeleno).await;
    assert_totals_exact(&app).await;

    // Kiwi moves "a" from the 10th to the 13th and makes it larger: the 10th empties. Then
    // deletes "b" from the 11th.
    let a = kiwi.entry("a").id.clone();
    let patched = app
        .patch(
            &format!("/food-entries/{a}"),
            "kiwi",
            json!({"timestamp": "2024-07-13T00:30:00Z", "calories": 150}),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.json()["timestamp"], "2024-07-13T00:30:00.000Z");
    let mut entry = patched.json();
    assert_eq!(
        entry.as_object_mut().unwrap().remove("badgesEarned"),
        Some(json!([]))
    );
    assert_eq!(
        json_of(&app, &format!("/food-entries/{a}"), "kiwi").await,
        entry
    );
    kiwi.entry("a").day = "2024-07-13";
    kiwi.entry("a").amounts[0] = 150.0;
    let b = kiwi.entry("b").id.clone();
    app.delete(&format!("/food-entries/{b}"), "kiwi")
        .await
        .assert_status(200);
    kiwi.logged.retain(|entry| entry.id != b);
    assert_agrees(&app, &kiwi).await;

    // The angeleno moves "c" from the 10th to the 12th, which completes a run of three days:
    // the PATCH earns the badge. Then deletes "d" from the 11th, which keeps two entries.
    let c = angeleno.entry("c").id.clone();
    app.patch(
        &format!("/food-entries/{c}"),
        "angeleno",
        json!({"timestamp": "2024-07-12T12:00:00Z"}),
    )
    .await
    .assert_status(200);
    angeleno.entry("c").day = "2024-07-12";
    angeleno.longest_streak = 3;
    angeleno.badges.push("streak_3");
    let d = angeleno.entry("d").id.clone();
    app.delete(&format!("/food-entries/{d}"), "angeleno")
        .await
        .assert_status(200);
    angeleno.logged.retain(|entry| entry.id != d);
    assert_agrees(&app, &angeleno).await;
    assert_agrees(&app, &kiwi).await;
    assert_totals_exact(&app).await;

    // Onboarding later: the new goals are every day's goals, past days too.
    onboard(
        &app,
        "angeleno",
        json!({"age": 40, "gender": "male", "height": 180, "currentWeight": 80,
               "targetWeight": 80, "goal": "maintain_weight", "activityLevel": "very_active"}),
        [2980.0, 128.0, 430.0, 83.0],
    )
    .await;
    angeleno.goals = [2980.0, 128.0, 430.0, 83.0];
    assert_agrees(&app, &angeleno).await;
}

backend_tests!(two_users_across_midnight_utc);
