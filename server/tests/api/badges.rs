//! Badges (CONTRACT §3 "Achievements"): the catalogue in `GET /badges`, awarded in the write
//! that earns them, exactly once, also under concurrent writes, and never taken back.

use futures_util::future::join_all;
use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests};

use crate::food_entries::{assert_totals_exact, count, days_ago, entry_at, post_entry};

fn earned_ids(created: &Value) -> Vec<String> {
    created["badgesEarned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|badge| badge["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn badges_of(app: &TestApp, user: &str) -> Vec<Value> {
    let response = app.get("/badges", user).await;
    response.assert_status(200);
    response.json().as_array().unwrap().clone()
}

async fn the_catalogue_is_listed_in_order_with_progress(backend: Backend) {
    let app = TestApp::start(backend).await;
    let fresh = badges_of(&app, "ann").await;
    let ids: Vec<&str> = fresh.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "first_entry",
            "first_10_entries",
            "entries_50",
            "entries_100",
            "streak_3",
            "week_streak",
            "month_streak"
        ]
    );
    assert_eq!(
        fresh[5],
        json!({"id": "week_streak", "name": "Week Streak Champion",
            "description": "Logged food entries for 7 consecutive days", "earned": false,
            "earnedAt": null, "progress": {"current": 0, "target": 7}})
    );

    let created = post_entry(&app, "ann", entry_at("a", &days_ago(2))).await;
    post_entry(&app, "ann", entry_at("b", &days_ago(1))).await;
    post_entry(&app, "ann", entry_at("c", &days_ago(1))).await;
    let badges = badges_of(&app, "ann").await;
    assert_eq!(badges[0]["earned"], true);
    assert_eq!(badges[0]["earnedAt"], created["createdAt"]);
    assert_eq!(badges[0]["progress"], json!({"current": 1, "target": 1}));
    assert_eq!(badges[1]["earned"], false);
    assert_eq!(badges[1]["progress"], json!({"current": 3, "target": 10}));
    assert_eq!(badges[3]["progress"], json!({"current": 3, "target": 100}));
    assert_eq!(badges[4]["progress"], json!({"current": 2, "target": 3}));
    assert_eq!(badges[6]["progress"], json!({"current": 2, "target": 30}));
    assert_eq!(
        badges_of(&app, "bob").await,
        fresh,
        "another user's badges are theirs"
    );
}

async fn count_badges_are_earned_at_their_thresholds_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut earned = Vec::new();
    for i in 1..=10 {
        let created = post_entry(&app, "ann", entry_at(&format!("e{i}"), &days_ago(1))).await;
        earned.push(earned_ids(&created));
    }
    assert_eq!(earned[0], ["first_entry"]);
    assert_eq!(earned[9], ["first_10_entries"]);
    assert!(earned[1..9].iter().all(Vec::is_empty), "{earned:?}");
    let eleventh = post_entry(&app, "ann", entry_at("e11", &days_ago(1))).await;
    assert!(earned_ids(&eleventh).is_empty());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 2);
}

async fn concurrent_writes_crossing_a_threshold_award_it_exactly_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let expected = ["first_10_entries", "first_entry", "streak_3", "week_streak"];
    // Several users, to give a lost update many chances to show.
    for user in ["ann", "bob", "cid"] {
        app.get("/badges", user).await.assert_status(200);
        // Exactly 10 entries on 10 consecutive days, all at once: the write that completes
        // the count or the week must see every other one. Each is on a day of its own, so
        // nothing but the user's lock orders them, and no later write makes up for a miss.
        let responses = join_all((0..10).map(|i| {
            app.post(
                "/food-entries",
                user,
                entry_at(&format!("e{i}"), &days_ago(i + 1)),
            )
        }))
        .await;
        let mut awarded: Vec<String> = Vec::new();
        for response in &responses {
            response.assert_status(201);
            awarded.extend(earned_ids(&response.json()));
        }
        awarded.sort();
        assert_eq!(
            awarded, expected,
            "{user}: each badge in exactly one response"
        );
        let badges = badges_of(&app, user).await;
        for id in expected {
            let badge = badges.iter().find(|b| b["id"] == id).unwrap();
            assert_eq!(badge["earned"], true, "{user}: {id}");
        }
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 12);
    assert_totals_exact(&app).await;
}

async fn a_back_dated_entry_that_bridges_a_gap_earns_the_streak(backend: Backend) {
    let app = TestApp::start(backend).await;
    post_entry(&app, "ann", entry_at("d5", &days_ago(5))).await;
    post_entry(&app, "ann", entry_at("d3", &days_ago(3))).await;
    post_entry(&app, "ann", entry_at("d2", &days_ago(2))).await;
    let bridge = post_entry(&app, "ann", entry_at("d4", &days_ago(4))).await;
    assert_eq!(earned_ids(&bridge), ["streak_3"]);
    // A PATCH that closes a gap earns it too.
    let created = post_entry(&app, "bob", entry_at("b1", &days_ago(10))).await;
    post_entry(&app, "bob", entry_at("b2", &days_ago(12))).await;
    let moved = post_entry(&app, "bob", entry_at("b3", &days_ago(20))).await;
    assert!(earned_ids(&created).contains(&"first_entry".to_owned()));
    let path = format!("/food-entries/{}", moved["id"].as_str().unwrap());
    let patched = app
        .patch(&path, "bob", json!({"timestamp": days_ago(11)}))
        .await;
    patched.assert_status(200);
    // ...and says so, as a POST does.
    assert_eq!(earned_ids(&patched.json()), ["streak_3"]);
    let badges = badges_of(&app, "bob").await;
    assert_eq!(badges[4]["id"], "streak_3");
    assert_eq!(badges[4]["earned"], true);
}

async fn week_and_month_streaks_are_earned_on_their_day(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut earned = Vec::new();
    for days in (1..=30).rev() {
        let created = post_entry(&app, "ann", entry_at("daily", &days_ago(days))).await;
        earned.push(earned_ids(&created));
    }
    assert_eq!(earned[2], ["streak_3"]);
    assert_eq!(earned[6], ["week_streak"]);
    assert_eq!(earned[9], ["first_10_entries"]);
    assert_eq!(earned[29], ["month_streak"]);
    let badges = badges_of(&app, "ann").await;
    assert_eq!(badges[6]["progress"], json!({"current": 30, "target": 30}));
}

async fn deleting_entries_never_takes_badges_back(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut ids = Vec::new();
    for days in 1..=3 {
        let created = post_entry(&app, "ann", entry_at("e", &days_ago(days))).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        app.delete(&format!("/food-entries/{id}"), "ann")
            .await
            .assert_status(200);
    }
    let badges = badges_of(&app, "ann").await;
    for badge in &badges[..] {
        let earned = ["first_entry", "streak_3"].contains(&badge["id"].as_str().unwrap());
        assert_eq!(badge["earned"], earned, "{badge}");
        if earned {
            assert_eq!(badge["progress"]["current"], badge["progress"]["target"]);
        } else {
            assert_eq!(badge["progress"]["current"], 0);
        }
    }
    // Logging again earns nothing already held.
    let again = post_entry(&app, "ann", entry_at("again", &days_ago(1))).await;
    assert!(earned_ids(&again).is_empty());
}

backend_tests!(
    the_catalogue_is_listed_in_order_with_progress,
    count_badges_are_earned_at_their_thresholds_once,
    concurrent_writes_crossing_a_threshold_award_it_exactly_once,
    a_back_dated_entry_that_bridges_a_gap_earns_the_streak,
    week_and_month_streaks_are_earned_on_their_day,
    deleting_entries_never_takes_badges_back,
);
