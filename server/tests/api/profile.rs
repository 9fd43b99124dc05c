//! `GET /profile` and `PUT /profile` (CONTRACT §3, Profile and onboarding).

use chrono::{Duration, NaiveDate};
use futures_util::future::join_all;
use http::{Method, header};
use serde_json::{Value, json};
use shared::objects::ObjectKey;
use shared::time::{UserZone, parse_instant};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestApp, TestResponse, backend_tests, sqlx, with_pool};

fn day(raw: &str) -> NaiveDate {
    shared::time::parse_date(raw).unwrap()
}

/// A 400 `VALIDATION_FAILED` that names `field`.
#[track_caller]
fn assert_rejects(response: &TestResponse, field: &str) {
    let body = response.assert_error(400, "VALIDATION_FAILED");
    assert!(
        body["fields"][field].is_string(),
        "expected {field} to be named: {body}"
    );
}

async fn profile_of(app: &TestApp, user: &str) -> Value {
    let response = app.get("/profile", user).await;
    response.assert_status(200);
    response.json()
}

async fn a_new_user_has_the_default_profile(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(
        profile_of(&app, "ann").await,
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

async fn the_profile_holds_onboarding_stats_and_badges(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.post(
        "/onboarding",
        "ann",
        json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
               "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"}),
    )
    .await
    .assert_status(200);
    seed::entries(
        &app.db,
        "ann",
        &[
            Entry::on(day("2024-05-30"), 400.0),
            Entry::on(day("2024-05-31"), 350.5),
            Entry::on(day("2024-05-31"), 249.5),
        ],
    )
    .await;
    let earned = parse_instant("2024-06-01T10:00:00Z").unwrap();
    seed::badge(
        &app.db,
        "ann",
        "week_streak",
        "Week Streak Champion",
        Some("Logged food entries for 7 consecutive days"),
        earned,
    )
    .await;
    seed::badge(
        &app.db,
        "ann",
        "first_entry",
        "First Bite",
        Some("Logged your first food entry"),
        earned - Duration::days(2),
    )
    .await;

    let profile = profile_of(&app, "ann").await;
    assert_eq!(
        profile["onboardingData"],
        json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
               "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"})
    );
    assert_eq!(
        profile["preferences"]["nutritionGoals"],
        json!({"calories": 1550, "protein": 120, "carbs": 171, "fat": 43})
    );
    assert_eq!(
        profile["stats"],
        json!({"totalEntries": 3, "totalCalories": 1000, "trackingDays": 2,
               // Onboarding weighed in its currentWeight.
               "latestWeight": 60, "weightTrend": 60})
    );
    assert_eq!(
        profile["badges"],
        json!([
            {"id": "first_entry", "name": "First Bite",
             "description": "Logged your first food entry", "earnedAt": "2024-05-30T10:00:00.000Z"},
            {"id": "week_streak", "name": "Week Streak Champion",
             "description": "Logged food entries for 7 consecutive days",
             "earnedAt": "2024-06-01T10:00:00.000Z"}
        ])
    );
}

/// The stats count the user's days, which are days of their zone: two entries an hour apart
/// around midnight UTC are one day in Auckland and two in UTC.
async fn tracking_days_are_days_of_the_users_zone(backend: Backend) {
    let app = TestApp::start(backend).await;
    let auckland: UserZone = "Pacific/Auckland".parse().unwrap();
    let instants =
        ["2024-07-11T23:30:00Z", "2024-07-12T00:30:00Z"].map(|raw| parse_instant(raw).unwrap());
    for (user, zone) in [("kiwi", auckland), ("utc", UserZone::UTC)] {
        app.put(
            "/profile",
            user,
            json!({"preferences": {"timezone": zone.name()}}),
        )
        .await
        .assert_status(200);
        let entries = instants.map(|at| Entry::eaten(zone, at, 100.0));
        seed::entries(&app.db, user, &entries).await;
    }
    assert_eq!(profile_of(&app, "kiwi").await["stats"]["trackingDays"], 1);
    assert_eq!(profile_of(&app, "utc").await["stats"]["trackingDays"], 2);
}

async fn an_update_changes_what_it_names_and_answers_the_whole_profile(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .put(
            "/profile",
            "ann",
            json!({"name": "  Ann Smith ", "preferences": {
                "dietaryRestrictions": ["Vegetarian", " Gluten-free "],
                "nutritionGoals": {"calories": 1800, "protein": 90.5, "carbs": 200, "fat": 60},
                "timezone": "Europe/Berlin", "exerciseCalories": "half", "waterGoal": 2500}}),
        )
        .await;
    response.assert_status(200);
    let updated = response.json();
    assert_eq!(updated, profile_of(&app, "ann").await);
    assert_eq!(updated["name"], "Ann Smith");
    assert_eq!(
        updated["preferences"],
        json!({"dietaryRestrictions": ["Vegetarian", "Gluten-free"],
               "nutritionGoals": {"calories": 1800, "protein": 90.5, "carbs": 200, "fat": 60},
               "notifications": true, "timezone": "Europe/Berlin",
               "exerciseCalories": "half", "waterGoal": 2500})
    );

    // Only notifications: everything else stays.
    let response = app
        .put(
            "/profile",
            "ann",
            json!({"preferences": {"notifications": false}}),
        )
        .await;
    response.assert_status(200);
    let mut expected = updated.clone();
    expected["preferences"]["notifications"] = json!(false);
    assert_eq!(response.json(), expected);

    // Only the name.
    let response = app.put("/profile", "ann", json!({"name": "Ann"})).await;
    response.assert_status(200);
    expected["name"] = json!("Ann");
    assert_eq!(response.json(), expected);
}

async fn the_picture_must_be_an_image_the_user_uploaded_as_a_profile_picture(backend: Backend) {
    let app = TestApp::start(backend).await;
    profile_of(&app, "ann").await;
    profile_of(&app, "bob").await;
    let buckets = app.state.buckets().clone();
    let own = seed::image(app.state.store(), &buckets.profile_pictures, "ann").await;
    let food = seed::image(app.state.store(), &buckets.food_images, "ann").await;
    let bobs = seed::image(app.state.store(), &buckets.profile_pictures, "bob").await;

    let response = app
        .put("/profile", "ann", json!({"profilePicture": own}))
        .await;
    response.assert_status(200);
    assert_eq!(response.json()["profilePicture"], own.as_str());

    let never_uploaded = ObjectKey::generate("ann", "png")
        .unwrap()
        .as_str()
        .to_owned();
    for key in [food, bobs, never_uploaded, "../secrets.png".to_owned()] {
        let response = app
            .put(
                "/profile",
                "ann",
                json!({"profilePicture": key, "name": "Changed"}),
            )
            .await;
        assert_rejects(&response, "profilePicture");
        let profile = profile_of(&app, "ann").await;
        assert_eq!(profile["profilePicture"], own.as_str(), "{key}");
        assert_eq!(profile["name"], "User ann", "{key}");
    }

    let response = app
        .put("/profile", "ann", json!({"profilePicture": null}))
        .await;
    response.assert_status(200);
    assert_eq!(response.json()["profilePicture"], Value::Null);
}

/// Every rejected update answers 400 naming the field, and the stored profile is unchanged.
async fn a_rejected_update_changes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.put(
        "/profile",
        "ann",
        json!({"name": "Ann", "preferences": {"dietaryRestrictions": ["Vegan"], "timezone": "Asia/Tokyo"}}),
    )
    .await
    .assert_status(200);
    let before = profile_of(&app, "ann").await;

    let goals = json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60});
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "body"),
        (json!([]), "body"),
        (json!("name"), "body"),
        (json!({"email": "new@example.com"}), "email"),
        (json!({"name": "New", "bogus": 1}), "bogus"),
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"name": "Nul\0Byte"}), "name"),
        (
            json!({"preferences": {"dietaryRestrictions": ["Ve\0gan"]}}),
            "preferences.dietaryRestrictions",
        ),
        (json!({"profilePicture": 1}), "profilePicture"),
        (json!({"preferences": null}), "preferences"),
        (json!({"preferences": "dark"}), "preferences"),
        (json!({"preferences": {}}), "preferences"),
        (
            json!({"name": "New", "preferences": {"theme": "dark"}}),
            "preferences.theme",
        ),
        (
            json!({"preferences": {"timezone": "Mars/Olympus"}}),
            "preferences.timezone",
        ),
        (
            json!({"preferences": {"timezone": "+02:00"}}),
            "preferences.timezone",
        ),
        (
            json!({"preferences": {"timezone": 2}}),
            "preferences.timezone",
        ),
        (
            json!({"preferences": {"notifications": "false"}}),
            "preferences.notifications",
        ),
        (
            json!({"preferences": {"notifications": 0}}),
            "preferences.notifications",
        ),
        (
            json!({"preferences": {"dietaryRestrictions": "Vegan"}}),
            "preferences.dietaryRestrictions",
        ),
        (
            json!({"preferences": {"dietaryRestrictions": ["Vegan", 3]}}),
            "preferences.dietaryRestrictions",
        ),
        (
            json!({"preferences": {"dietaryRestrictions": [""]}}),
            "preferences.dietaryRestrictions",
        ),
        (
            json!({"preferences": {"dietaryRestrictions": vec!["Vegan"; 21]}}),
            "preferences.dietaryRestrictions",
        ),
        (
            json!({"preferences": {"dietaryRestrictions": ["x".repeat(51)]}}),
            "preferences.dietaryRestrictions",
        ),
        (
            json!({"preferences": {"nutritionGoals": null}}),
            "preferences.nutritionGoals",
        ),
        (
            json!({"preferences": {"nutritionGoals": {"calories": 1800}}}),
            "preferences.nutritionGoals.protein",
        ),
        (
            json!({"preferences": {"nutritionGoals": {"calories": "1800", "protein": 90, "carbs": 200, "fat": 60}}}),
            "preferences.nutritionGoals.calories",
        ),
        (
            json!({"preferences": {"nutritionGoals": {"calories": true, "protein": 90, "carbs": 200, "fat": 60}}}),
            "preferences.nutritionGoals.calories",
        ),
        (
            json!({"preferences": {"nutritionGoals": {"calories": 4001, "protein": 90, "carbs": 200, "fat": 60}}}),
            "preferences.nutritionGoals.calories",
        ),
        (
            json!({"preferences": {"nutritionGoals": {"calories": 1800, "protein": 90, "carbs": 200, "fat": 60, "fibre": 30}}}),
            "preferences.nutritionGoals.fibre",
        ),
        // A valid change together with an invalid one: neither is applied.
        (
            json!({"name": "New", "preferences": {"nutritionGoals": goals, "timezone": "Nowhere"}}),
            "preferences.timezone",
        ),
    ];
    for (body, field) in cases {
        let response = app.put("/profile", "ann", body.clone()).await;
        assert_rejects(&response, field);
        assert_eq!(profile_of(&app, "ann").await, before, "after {body}");
    }

    // An empty body (with or without a content type) is a validation error too.
    for content_type in [Some("application/json"), None] {
        for empty in ["", "  \n"] {
            let mut request = app.request(Method::PUT, "/profile").user("ann");
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            assert_rejects(&request.body(empty).send().await, "body");
        }
    }
    let malformed = app
        .request(Method::PUT, "/profile")
        .user("ann")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"name\": ")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    let too_large = app
        .put("/profile", "ann", json!({"name": "x".repeat(64 * 1024)}))
        .await;
    too_large.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(profile_of(&app, "ann").await, before);
}

/// `preferences.nutritionGoals` of `PUT /profile` and the body of `PUT /nutrition-goals` are
/// one validation: the same problems for the same goals.
async fn nested_goals_are_validated_as_put_nutrition_goals_validates_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    let bad_goals = [
        json!({"calories": 799, "protein": 9.99, "carbs": 1000.01, "fat": 401}),
        json!({"calories": "2000", "protein": false, "carbs": [250], "fat": {"g": 70}}),
        json!({"calories": null, "extra": 1}),
        json!({}),
    ];
    for goals in bad_goals {
        let direct = app.put("/nutrition-goals", "ann", goals.clone()).await;
        let nested = app
            .put(
                "/profile",
                "ann",
                json!({"preferences": {"nutritionGoals": goals}}),
            )
            .await;
        let direct = direct.assert_error(400, "VALIDATION_FAILED")["fields"].clone();
        let nested = nested.assert_error(400, "VALIDATION_FAILED")["fields"].clone();
        let prefixed: serde_json::Map<String, Value> = direct
            .as_object()
            .unwrap()
            .iter()
            .map(|(field, problem)| {
                (
                    format!("preferences.nutritionGoals.{field}"),
                    problem.clone(),
                )
            })
            .collect();
        assert_eq!(nested, Value::Object(prefixed), "{goals}");
    }
}

/// The profile, with the caller's standing, is one statement, however long the history.
#[tokio::test]
async fn reading_a_long_history_costs_one_round_trip() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    seed::user(app.state.store(), "heavy").await;
    let first = day("2020-01-01");
    let entries: Vec<Entry> = (0..4000)
        .map(|n| Entry::on(first + Duration::days(n / 3), 100.0 + (n % 7) as f64))
        .collect();
    let total: f64 = entries.iter().map(|entry| entry.calories).sum();
    seed::entries(&app.db, "heavy", &entries).await;
    for (n, id) in ["first_entry", "streak_3", "week_streak"]
        .iter()
        .enumerate()
    {
        let earned = parse_instant("2020-01-01T12:00:00Z").unwrap() + Duration::days(n as i64);
        seed::badge(&app.db, "heavy", id, id, None, earned).await;
    }

    let round_trips = app.round_trips_of(|| app.get("/profile", "heavy")).await;
    assert_eq!(
        round_trips, 1,
        "the profile, standing included, in one statement"
    );
    let profile = profile_of(&app, "heavy").await;
    assert_eq!(profile["stats"]["totalEntries"], 4000);
    assert_eq!(profile["stats"]["totalCalories"].as_f64(), Some(total));
    assert_eq!(profile["stats"]["trackingDays"], 1334);
    assert_eq!(profile["badges"].as_array().unwrap().len(), 3);
}

/// Concurrent first updates of a user's preferences leave one row with one of the values.
async fn concurrent_updates_leave_one_preferences_row(backend: Backend) {
    let app = TestApp::start(backend).await;
    profile_of(&app, "ann").await;
    let zones = [
        "Europe/Berlin",
        "Asia/Tokyo",
        "America/Chicago",
        "Africa/Cairo",
    ];
    let updates = zones.iter().map(|zone| {
        app.put(
            "/profile",
            "ann",
            json!({"preferences": {"timezone": zone}}),
        )
    });
    for response in join_all(updates).await {
        response.assert_status(200);
    }
    let rows: i64 = with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM user_preferences")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(rows, 1);
    let zone = profile_of(&app, "ann").await["preferences"]["timezone"].clone();
    assert!(zones.contains(&zone.as_str().unwrap()), "{zone}");
}

#[tokio::test]
async fn the_profile_requires_a_token() {
    let app = TestApp::start(Backend::Sqlite).await;
    for method in [Method::GET, Method::PUT] {
        let response = app
            .request(method, "/profile")
            .json(&json!({"name": "Ann"}))
            .send()
            .await;
        response.assert_error(401, "UNAUTHORIZED");
    }
}

backend_tests!(
    a_new_user_has_the_default_profile,
    the_profile_holds_onboarding_stats_and_badges,
    tracking_days_are_days_of_the_users_zone,
    an_update_changes_what_it_names_and_answers_the_whole_profile,
    the_picture_must_be_an_image_the_user_uploaded_as_a_profile_picture,
    a_rejected_update_changes_nothing,
    nested_goals_are_validated_as_put_nutrition_goals_validates_them,
    concurrent_updates_leave_one_preferences_row,
);
