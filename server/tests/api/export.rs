//! `GET /export` (CONTRACT §3 "Operations"): the whole of a user's data as one JSON document
//! or their entries as CSV, streamed a page at a time.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, Utc};
use http::{Method, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::domain::export::CSV_COLUMNS;
use shared::time::{UserZone, parse_instant};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestApp, TestResponse, backend_tests, sqlx, with_pool};

use crate::food_entries::post_entry;

/// Entries of one export page.
const PAGE: usize = 500;

/// A 200 export whose headers are those of `format`.
async fn export(app: &TestApp, user: &str, format: &str) -> TestResponse {
    let path = match format {
        "json" => "/export".to_owned(),
        _ => format!("/export?format={format}"),
    };
    let response = app.get(&path, user).await;
    response.assert_status(200);
    let (content_type, file) = match format {
        "csv" => ("text/csv; charset=utf-8", "food-diary-export.csv"),
        _ => ("application/json", "food-diary-export.json"),
    };
    assert_eq!(response.header("content-type"), Some(content_type));
    assert_eq!(
        response.header("content-disposition"),
        Some(format!("attachment; filename=\"{file}\"").as_str())
    );
    assert_eq!(response.header("cache-control"), Some("private, no-store"));
    response
}

async fn export_json(app: &TestApp, user: &str) -> Value {
    export(app, user, "json").await.json()
}

/// The CSV export's header and rows, read back with a CSV parser.
async fn export_csv(app: &TestApp, user: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let response = export(app, user, "csv").await;
    let mut reader = csv::Reader::from_reader(response.body.as_ref());
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().collect::<Result<_, _>>().unwrap();
    (header, rows)
}

/// Every entry of the user, walked through `GET /food-entries` pages.
async fn listed(app: &TestApp, user: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut path = "/food-entries".to_owned();
    loop {
        let page = app.get(&path, user).await;
        page.assert_status(200);
        entries.extend(page.json().as_array().unwrap().iter().cloned());
        match page.header("x-next-cursor") {
            Some(next) => path = format!("/food-entries?cursor={next}"),
            None => return entries,
        }
    }
}

fn ids(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["id"].as_str().unwrap()).collect()
}

/// The CSV cell of a JSON value as the API shows it: text as it is, numbers as written,
/// null empty.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Entries to seed: `per_day` on each of `days` days from 2023-01-01 (in UTC), then `same`
/// more at one instant.
fn history(days: i64, per_day: i64, same: usize) -> Vec<Entry> {
    let first = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    let mut entries: Vec<Entry> = (0..days * per_day)
        .map(|n| {
            let noon = (first + Duration::days(n / per_day))
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc();
            let at = noon + Duration::minutes(n % per_day);
            Entry::eaten(UserZone::UTC, at, 100.0 + (n % 7) as f64 * 10.5).macros(10.0, 20.25, 5.0)
        })
        .collect();
    let shared_instant = parse_instant("2023-03-01T12:00:00.500Z").unwrap();
    entries.extend((0..same).map(|_| Entry::eaten(UserZone::UTC, shared_instant, 250.0)));
    entries
}

async fn an_empty_diary_exports_the_profile_and_no_entries(backend: Backend) {
    let app = TestApp::start(backend).await;
    let before = Utc::now() - Duration::seconds(1);
    let document = export_json(&app, "ann").await;
    let profile = app.get("/profile", "ann").await.json();
    let exported_at = parse_instant(document["exportedAt"].as_str().unwrap()).unwrap();
    assert!(exported_at >= before && exported_at <= Utc::now());
    assert_eq!(
        document,
        json!({"exportedAt": document["exportedAt"], "profile": profile, "badges": [],
               "meals": [], "entries": [], "weights": [], "activities": [], "water": []})
    );
    let (header, rows) = export_csv(&app, "ann").await;
    assert_eq!(&header, CSV_COLUMNS.as_slice());
    assert!(rows.is_empty());
}

/// More entries than a page, several sharing one instant: each exactly once, in the order of
/// `GET /food-entries`, as `GET /food-entries/{id}` shows it; nobody else's.
async fn a_long_history_is_exported_whole_in_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed::user(app.state.store(), "ann").await;
    seed::user(app.state.store(), "bob").await;
    seed::entries(&app.db, "ann", &history(397, 3, 9)).await;
    seed::entries(&app.db, "bob", &history(3, 2, 2)).await;
    post_entry(
        &app,
        "bob",
        json!({"name": "Bob's", "calories": 1, "mealType": "snack"}),
    )
    .await;
    let total = 397 * 3 + 9;
    assert!(total > 2 * PAGE);

    let document = export_json(&app, "ann").await;
    let entries = document["entries"].as_array().unwrap();
    assert_eq!(entries.len(), total);
    let stored: BTreeSet<String> = with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT id FROM food_entries WHERE user_id = $1")
            .bind("ann")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect()
    });
    let exported: BTreeSet<String> = ids(entries).into_iter().map(str::to_owned).collect();
    assert_eq!(exported, stored, "every entry exactly once");
    assert!(
        entries
            .windows(2)
            .all(|pair| pair[0]["timestamp"].as_str() <= pair[1]["timestamp"].as_str()),
        "by timestamp"
    );
    assert_eq!(
        entries,
        &listed(&app, "ann").await,
        "as the diary lists them"
    );
    let shared_instant: Vec<&Value> = entries
        .iter()
        .filter(|e| e["timestamp"] == "2023-03-01T12:00:00.500Z")
        .collect();
    assert_eq!(shared_instant.len(), 9);
    for entry in shared_instant.into_iter().chain(entries.iter().step_by(97)) {
        let read = app
            .get(
                &format!("/food-entries/{}", entry["id"].as_str().unwrap()),
                "ann",
            )
            .await;
        assert_eq!(&read.json(), entry);
    }
    assert_eq!(document["profile"], app.get("/profile", "ann").await.json());
    assert_eq!(document["profile"]["stats"]["totalEntries"], total);
    assert_eq!(document["badges"], document["profile"]["badges"]);

    // Bob's export holds only his entries.
    let bobs = export_json(&app, "bob").await;
    let bobs = bobs["entries"].as_array().unwrap();
    assert_eq!(bobs.len(), 3 * 2 + 2 + 1);
    assert!(bobs.iter().all(|e| e["userId"] == "bob"));
    assert!(ids(bobs).iter().all(|id| !exported.contains(*id)));

    let (header, rows) = export_csv(&app, "ann").await;
    assert_eq!(&header, CSV_COLUMNS.as_slice());
    assert_eq!(rows.len(), total);
    let row_ids: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    assert_eq!(row_ids, ids(entries), "the same entries in the same order");
}

/// Texts that CSV must quote, and texts a spreadsheet would run as formulas, posted through
/// the API: the CSV parses back to the JSON export's values, formulas neutralized.
async fn the_csv_quotes_what_it_must_and_neutralizes_formulas(backend: Backend) {
    let app = TestApp::start(backend).await;
    let bodies = [
        json!({"name": "Pizza, \"quattro\" formaggi", "calories": 850.5, "mealType": "dinner",
               "servingSize": "2 slices", "protein": 30, "carbs": 90.25, "fat": 35,
               "notes": "first line\nsecond line, with a comma\r\nthird \"quoted\"",
               "timestamp": "2024-07-11T19:00:00Z"}),
        json!({"name": "Crème brûlée 🍮 お茶", "calories": 0, "mealType": "snack",
               "notes": "日本語, ünïcödé", "timestamp": "2024-07-11T20:00:00Z"}),
        json!({"name": "=HYPERLINK(\"http://x.invalid\",\"click\")", "calories": 1,
               "mealType": "lunch", "servingSize": "+1 cup", "notes": "@SUM(A1:A9)",
               "timestamp": "2024-07-11T12:00:00Z"}),
        json!({"name": "-2+3", "calories": 2, "mealType": "breakfast",
               "notes": "\t=1+1", "timestamp": "2024-07-11T08:00:00Z"}),
    ];
    for body in &bodies {
        post_entry(&app, "ann", body.clone()).await;
    }
    let document = export_json(&app, "ann").await;
    let entries = document["entries"].as_array().unwrap();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "-2+3",
            "=HYPERLINK(\"http://x.invalid\",\"click\")",
            "Pizza, \"quattro\" formaggi",
            "Crème brûlée 🍮 お茶"
        ],
        "the JSON export keeps texts as they are, by timestamp"
    );

    // The columns, in order: the entry's fields but userId.
    let columns = [
        "id",
        "timestamp",
        "createdAt",
        "name",
        "mealType",
        "calories",
        "protein",
        "carbs",
        "fat",
        "servingSize",
        "notes",
        "imageKey",
    ];
    let (header, rows) = export_csv(&app, "ann").await;
    assert_eq!(&header, columns.as_slice());
    assert_eq!(rows.len(), entries.len());
    let formula = |text: &str| text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    for (row, entry) in rows.iter().zip(entries) {
        for (i, column) in columns.iter().enumerate() {
            let value = cell(&entry[*column]);
            let expected = if entry[*column].is_string() && formula(&value) {
                format!("'{value}")
            } else {
                value
            };
            assert_eq!(&row[i], expected, "{column} of {entry}");
        }
    }
    assert_eq!(&rows[0][3], "'-2+3");
    assert_eq!(&rows[0][10], "'=1+1", "texts are trimmed when written");
    assert_eq!(&rows[1][3], "'=HYPERLINK(\"http://x.invalid\",\"click\")");
    assert_eq!(&rows[1][9], "'+1 cup");
    assert_eq!(&rows[1][10], "'@SUM(A1:A9)");
    assert_eq!(&rows[2][3], "Pizza, \"quattro\" formaggi");
    assert_eq!(&rows[2][5], "850.5");
    assert_eq!(&rows[2][7], "90.25");
    assert_eq!(
        &rows[2][10],
        "first line\nsecond line, with a comma\r\nthird \"quoted\""
    );
    assert_eq!(&rows[3][3], "Crème brûlée 🍮 お茶");
    assert_eq!(
        (&rows[3][6], &rows[3][11]),
        ("", ""),
        "null is an empty cell"
    );

    // RFC 4180 on the wire: a byte order mark, CRLF after records, quotes doubled.
    let raw = export(&app, "ann", "csv").await.body;
    assert!(raw.starts_with(b"\xEF\xBB\xBFid,timestamp,"));
    let text = std::str::from_utf8(&raw).unwrap();
    assert!(text.contains(",\"Pizza, \"\"quattro\"\" formaggi\","));
    assert!(text.ends_with("\r\n"));
}

async fn bad_requests_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    for format in ["xml", "CSV", ""] {
        let response = app.get(&format!("/export?format={format}"), "ann").await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert_eq!(
            error["fields"]["format"], "must be json or csv",
            "{format:?}"
        );
    }
    app.get("/export?format=csv&format=json", "ann")
        .await
        .assert_error(400, "BAD_REQUEST");
    // Other parameters are ignored, as elsewhere.
    export(&app, "ann", "json").await;
    app.get("/export?format=json&download=1", "ann")
        .await
        .assert_status(200);
    let anonymous = app.request(Method::GET, "/export").send().await;
    anonymous.assert_error(401, "UNAUTHORIZED");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let wrong = app
        .request(Method::GET, "/export?format=csv")
        .header(header::AUTHORIZATION, "Bearer not-a-token")
        .send()
        .await;
    wrong.assert_error(401, "UNAUTHORIZED");
}

/// The body arrives as it is read: the profile first, then one chunk per page of entries. An
/// error after the first chunk can only end the body early.
async fn the_body_streams_a_page_at_a_time(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed::user(app.state.store(), "ann").await;
    seed::entries(&app.db, "ann", &history(1100, 1, 0)).await;
    let response = app
        .request(Method::GET, "/export")
        .user("ann")
        .send_streaming()
        .await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut chunks = Vec::new();
    while let Some(frame) = body.frame().await {
        chunks.push(frame.unwrap().into_data().unwrap());
    }
    // The profile, pages of 500, 500 and 100 entries, a page of each health log, the end.
    assert_eq!(chunks.len(), 1 + 3 + 3 + 1);
    assert!(chunks[0].starts_with(b"{\"exportedAt\":"));
    assert!(chunks[1].starts_with(b",\"entries\":["));
    assert_eq!(&chunks[4][..], b",\"weights\":[]");
    let joined: Vec<u8> = chunks.concat();
    let document: Value = serde_json::from_slice(&joined).unwrap();
    assert_eq!(document["entries"].as_array().unwrap().len(), 1100);

    // The database goes away after the head was sent: the body ends with an error, and what
    // arrived is not a whole document.
    let response = app
        .request(Method::GET, "/export?format=csv")
        .user("ann")
        .send_streaming()
        .await;
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let head = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(head.ends_with(b"imageKey\r\n"));
    app.state.store().close().await;
    assert!(
        body.frame().await.unwrap().is_err(),
        "the stream ends in an error"
    );
}

/// Authentication, the profile, then one statement per page of 500 entries; the JSON also
/// reads the saved meals and each health log (a page each here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_costs_a_round_trip_per_page() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    for (user, entries, pages) in [("empty", 0, 1), ("full", 1000, 2), ("long", 1200, 3)] {
        seed::user(app.state.store(), user).await;
        seed::entries(&app.db, user, &history(entries, 1, 0)).await;
        for (path, others) in [("/export", 1 + 3), ("/export?format=csv", 0)] {
            let round_trips = app.round_trips_of(|| app.get(path, user)).await;
            assert_eq!(round_trips, 1 + 1 + pages + others, "{user} {path}");
        }
    }
}

backend_tests!(
    an_empty_diary_exports_the_profile_and_no_entries,
    a_long_history_is_exported_whole_in_order,
    the_csv_quotes_what_it_must_and_neutralizes_formulas,
    bad_requests_are_refused,
    the_body_streams_a_page_at_a_time,
);
