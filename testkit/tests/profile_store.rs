//! The profile storage on both backends: one read of everything, lenient about rows of the
//! previous service, and writes that replace what they name.

use chrono::{Duration, NaiveDate};
use serde_json::json;
use shared::domain::goals::NutritionGoals;
use shared::domain::onboarding::{ActivityLevel, FitnessGoal, Gender, Onboarding};
use shared::domain::profile::{PreferencesUpdate, ProfileUpdate};
use shared::domain::weights::{WeightEntry, Weights, onboarding_weigh_in};
use shared::time::{UserZone, parse_instant};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestDb, backend_tests, sqlx, with_pool};

fn day(raw: &str) -> NaiveDate {
    shared::time::parse_date(raw).unwrap()
}

fn today() -> NaiveDate {
    shared::time::now().date_naive()
}

/// The weigh-in onboarding records with `answers`, now.
fn weigh_in(answers: &Onboarding) -> WeightEntry {
    onboarding_weigh_in(answers.current_weight, today(), shared::time::now())
}

async fn a_new_user_has_defaults_and_an_unknown_one_no_profile(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    assert_eq!(
        store.profile("ghost", shared::time::now()).await.unwrap(),
        None
    );
    seed::user(&store, "ann").await;
    let profile = store
        .profile("ann", shared::time::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&profile).unwrap(),
        json!({
            "userId": "ann", "name": "User ann", "email": "ann@example.com", "profilePicture": null,
            "preferences": {"dietaryRestrictions": [],
                            "nutritionGoals": {"calories": 2000, "protein": 100, "carbs": 250, "fat": 70},
                            "notifications": true, "timezone": "UTC",
                            "exerciseCalories": "none", "waterGoal": 2000},
            "onboardingData": null,
            "stats": {"totalEntries": 0, "totalCalories": 0, "trackingDays": 0,
                      "latestWeight": null, "weightTrend": null},
            "badges": []
        })
    );
}

async fn stats_come_from_the_daily_totals_and_badges_in_the_order_earned(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    seed::user(&store, "bob").await;
    seed::entries(
        &db,
        "ann",
        &[
            Entry::on(day("2024-07-10"), 350.5),
            Entry::on(day("2024-07-10"), 200.25),
            Entry::on(day("2024-07-12"), 1000.0),
        ],
    )
    .await;
    seed::entries(&db, "bob", &[Entry::on(day("2024-07-10"), 999.0)]).await;
    let earlier = parse_instant("2024-07-10T12:00:00.123Z").unwrap();
    // Recorded out of order, and two at the same instant (then by insertion).
    seed::badge(
        &db,
        "ann",
        "streak_3",
        "On a Roll",
        None,
        earlier + Duration::days(2),
    )
    .await;
    seed::badge(
        &db,
        "ann",
        "first_entry",
        "First Bite",
        Some("1 entry"),
        earlier,
    )
    .await;
    seed::badge(
        &db,
        "ann",
        "first_10_entries",
        "Getting Started",
        Some("10"),
        earlier,
    )
    .await;

    let profile = store
        .profile("ann", shared::time::now())
        .await
        .unwrap()
        .unwrap();
    let json = serde_json::to_value(&profile).unwrap();
    assert_eq!(
        json["stats"],
        json!({"totalEntries": 3, "totalCalories": 1550.75, "trackingDays": 2,
               "latestWeight": null, "weightTrend": null})
    );
    assert_eq!(
        json["badges"],
        json!([
            {"id": "first_entry", "name": "First Bite", "description": "1 entry",
             "earnedAt": "2024-07-10T12:00:00.123Z"},
            {"id": "first_10_entries", "name": "Getting Started", "description": "10",
             "earnedAt": "2024-07-10T12:00:00.123Z"},
            {"id": "streak_3", "name": "On a Roll", "description": "",
             "earnedAt": "2024-07-12T12:00:00.123Z"}
        ])
    );
}

/// Rows the previous service (or a hand-edited database) left: odd goals, holes everywhere.
async fn odd_stored_values_are_read_leniently(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "old").await;
    let goals = r#"{"calories": "1800", "protein": null, "carbs": -5, "fat": 60.5, "sugar": 1}"#;
    let (preferences, restrictions) = match backend {
        Backend::Postgres => (
            "INSERT INTO user_preferences (user_id, dietary_restrictions, nutrition_goals, \
             notifications_enabled, timezone, created_at) \
             VALUES ('old', CAST($1 AS TEXT[]), CAST($2 AS JSONB), NULL, 'Atlantis/Capital', now())",
            "{Vegetarian,NULL,Halal}",
        ),
        Backend::Sqlite => (
            "INSERT INTO user_preferences (user_id, dietary_restrictions, nutrition_goals, \
             notifications_enabled, timezone, created_at) \
             VALUES ('old', $1, $2, NULL, 'Atlantis/Capital', '2024-01-01T00:00:00Z')",
            r#"["Vegetarian", null, "Halal"]"#,
        ),
    };
    with_pool!(db, |pool| {
        sqlx::query(preferences)
            .bind(restrictions)
            .bind(goals)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO user_onboarding_data (user_id, age, gender, height_cm, created_at) \
             VALUES ('old', 30, 'female', 165.5, $1)",
        )
        .bind(shared::time::now())
        .execute(&pool)
        .await
        .unwrap();
    });
    let json = serde_json::to_value(
        store
            .profile("old", shared::time::now())
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["preferences"],
        json!({"dietaryRestrictions": ["Vegetarian", "Halal"],
               "nutritionGoals": {"calories": 1800, "protein": 100, "carbs": 250, "fat": 60.5},
               "notifications": true, "timezone": "UTC",
               "exerciseCalories": "none", "waterGoal": 2000})
    );
    assert_eq!(
        json["onboardingData"],
        json!({"age": 30, "gender": "female", "height": 165.5, "currentWeight": null,
               "targetWeight": null, "goal": null, "activityLevel": null})
    );
}

async fn updates_change_only_what_they_name(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    let auckland: UserZone = "Pacific/Auckland".parse().unwrap();
    let goals = NutritionGoals {
        calories: 1800.0,
        protein: 90.0,
        carbs: 200.0,
        fat: 60.5,
    };
    let first = ProfileUpdate {
        name: Some("Ann".into()),
        preferences: PreferencesUpdate {
            dietary_restrictions: Some(vec!["Vegan".into(), "Halal".into()]),
            nutrition_goals: Some(goals),
            timezone: Some(auckland),
            ..PreferencesUpdate::default()
        },
        ..ProfileUpdate::default()
    };
    let profile = store
        .update_profile("ann", &first, shared::time::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.name.as_deref(), Some("Ann"));
    assert_eq!(profile.preferences.dietary_restrictions, ["Vegan", "Halal"]);
    assert_eq!(profile.preferences.nutrition_goals, goals);
    assert_eq!(profile.preferences.timezone, auckland);
    assert!(profile.preferences.notifications);
    assert_eq!(
        store.standing("ann").await.unwrap(),
        shared::store::Standing::Active(auckland)
    );

    let second = ProfileUpdate {
        preferences: PreferencesUpdate {
            dietary_restrictions: Some(Vec::new()),
            notifications: Some(false),
            ..PreferencesUpdate::default()
        },
        ..ProfileUpdate::default()
    };
    let profile = store
        .update_profile("ann", &second, shared::time::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.name.as_deref(), Some("Ann"));
    assert!(profile.preferences.dietary_restrictions.is_empty());
    assert!(!profile.preferences.notifications);
    assert_eq!(profile.preferences.nutrition_goals, goals);
    assert_eq!(profile.preferences.timezone, auckland);
    assert_eq!(
        store
            .profile("ann", shared::time::now())
            .await
            .unwrap()
            .unwrap(),
        profile
    );
}

async fn onboarding_replaces_answers_and_goals(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    let mut answers = Onboarding {
        age: 30,
        gender: Gender::Female,
        height: 165.0,
        current_weight: 60.0,
        target_weight: 58.0,
        goal: FitnessGoal::LoseWeight,
        activity_level: ActivityLevel::ModeratelyActive,
    };
    store
        .save_onboarding("ann", &answers, &answers.goals(), &weigh_in(&answers))
        .await
        .unwrap();
    answers.age = 31;
    answers.goal = FitnessGoal::GainWeight;
    answers.current_weight = 61.0;
    store
        .save_onboarding("ann", &answers, &answers.goals(), &weigh_in(&answers))
        .await
        .unwrap();
    let profile = store
        .profile("ann", shared::time::now())
        .await
        .unwrap()
        .unwrap();
    let onboarding = profile.onboarding_data.unwrap();
    assert_eq!(onboarding.age, Some(31));
    assert_eq!(onboarding.goal.as_deref(), Some("gain_weight"));
    assert_eq!(profile.preferences.nutrition_goals, answers.goals());
    // Each onboarding is a weigh-in of today: the day's mean starts the trend.
    assert_eq!(profile.stats.latest_weight, Some(61.0));
    assert_eq!(profile.stats.weight_trend, Some(60.5));
    let rows: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM user_onboarding_data")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(rows, 1);
}

/// A user whose account was deleted while their request ran: nothing is written, and the
/// answer is "not found" rather than a server error.
async fn writes_for_a_user_who_is_gone_are_not_found(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    let answers = Onboarding {
        age: 30,
        gender: Gender::Other,
        height: 170.0,
        current_weight: 70.0,
        target_weight: 70.0,
        goal: FitnessGoal::MaintainWeight,
        activity_level: ActivityLevel::Sedentary,
    };
    let not_found = |result: shared::Result<()>| {
        assert!(
            matches!(result, Err(shared::Error::NotFound(_))),
            "{result:?}"
        )
    };
    not_found(
        store
            .set_nutrition_goals("gone", &NutritionGoals::DEFAULT)
            .await,
    );
    not_found(
        store
            .save_onboarding("gone", &answers, &answers.goals(), &weigh_in(&answers))
            .await,
    );
    let rename = ProfileUpdate {
        name: Some("Ghost".into()),
        ..ProfileUpdate::default()
    };
    assert_eq!(
        store
            .update_profile("gone", &rename, shared::time::now())
            .await
            .unwrap(),
        None
    );
    let notifications = ProfileUpdate {
        preferences: PreferencesUpdate {
            notifications: Some(false),
            ..PreferencesUpdate::default()
        },
        ..ProfileUpdate::default()
    };
    let result = store
        .update_profile("gone", &notifications, shared::time::now())
        .await;
    assert!(
        matches!(result, Err(shared::Error::NotFound(_))),
        "{result:?}"
    );
    let rows: i64 = with_pool!(db, |pool| {
        sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM user_preferences) + (SELECT COUNT(*) FROM user_onboarding_data)",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    });
    assert_eq!(rows, 0);
}

/// The trend shown is that of the user's own day, which the statement learns with the zone:
/// from UTC−12, still on the day before the UTC one, to UTC+14, already on the next.
async fn the_trend_is_of_the_users_day_in_every_zone(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    let now = parse_instant("2024-07-11T11:00:00Z").unwrap();
    // Trends 80, 79, 77.1, 74.39; the last day is ahead of every zone.
    for (date, kg) in [
        ("2024-07-10", 80.0),
        ("2024-07-11", 70.0),
        ("2024-07-12", 60.0),
        ("2024-07-13", 50.0),
    ] {
        let entry = onboarding_weigh_in(kg, day(date), now);
        store
            .create_record::<Weights, _>("ann", &entry, day(date), None, |_| ())
            .await
            .unwrap();
    }
    for (zone, trend) in [
        ("Etc/GMT+12", 80.0),
        ("UTC", 79.0),
        ("Asia/Tokyo", 79.0),
        ("Pacific/Kiritimati", 77.1),
    ] {
        let update = ProfileUpdate {
            preferences: PreferencesUpdate {
                timezone: Some(zone.parse().unwrap()),
                ..PreferencesUpdate::default()
            },
            ..ProfileUpdate::default()
        };
        let updated = store.update_profile("ann", &update, now).await.unwrap();
        let read = store.profile("ann", now).await.unwrap();
        for profile in [updated, read] {
            let shown = profile.unwrap().stats.weight_trend.unwrap();
            assert!((shown - trend).abs() < 1e-9, "{zone}: {shown}");
        }
    }
    // On a day before the first weigh-in day there is no trend (07-09 in Kiritimati).
    let before = parse_instant("2024-07-08T11:00:00Z").unwrap();
    let profile = store.profile("ann", before).await.unwrap().unwrap();
    assert_eq!(profile.stats.weight_trend, None);
}

backend_tests!(
    the_trend_is_of_the_users_day_in_every_zone,
    writes_for_a_user_who_is_gone_are_not_found,
    a_new_user_has_defaults_and_an_unknown_one_no_profile,
    stats_come_from_the_daily_totals_and_badges_in_the_order_earned,
    odd_stored_values_are_read_leniently,
    updates_change_only_what_they_name,
    onboarding_replaces_answers_and_goals,
);
