//! A database that fails the way networks do (CONTRACT §1), through a proxy that pauses,
//! fails over, cuts and drops connections: every request answers 503 within 5 s while it is
//! down, the service serves again within 10 s of its return, and no request fails on a dead
//! pooled connection once it is back.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use testkit::{Backend, TestApp, TestResponse};

/// What "within 5 s" allows for the test's own scheduling.
const BOUND: Duration = Duration::from_millis(5200);

async fn app() -> TestApp {
    TestApp::builder(Backend::Postgres)
        .faulty_network()
        .start()
        .await
}

fn entry() -> serde_json::Value {
    json!({"name": "Apple", "calories": 95, "mealType": "snack"})
}

/// Opens `n` pooled connections (the test app's pool holds 5), all idle again afterwards.
async fn warm(app: &TestApp, n: usize) {
    for response in join_all((0..n).map(|_| app.get("/profile", "ann"))).await {
        response.assert_status(200);
    }
}

/// Sends `request` and asserts a 503 `UNAVAILABLE` within the bound.
async fn unavailable_in_time(request: impl Future<Output = TestResponse>) {
    let started = Instant::now();
    let response = request.await;
    let took = started.elapsed();
    response.assert_error(503, "UNAVAILABLE");
    assert!(took < BOUND, "answered after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_partition_is_503_within_5_s_and_the_service_recovers() {
    let app = app().await;
    warm(&app, 3).await;
    app.network().pause();

    let health = async {
        let started = Instant::now();
        let response = app.request(http::Method::GET, "/health").send().await;
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        response.assert_status(503);
        assert_eq!(response.json()["checks"]["database"], "disconnected");
    };
    tokio::join!(
        unavailable_in_time(app.get("/profile", "ann")),
        unavailable_in_time(app.post("/food-entries", "ann", entry())),
        unavailable_in_time(app.get(
            "/nutrition-summary?startDate=2024-07-01&endDate=2024-07-07",
            "ann"
        )),
        health,
    );
    // On connections opened during the partition too.
    unavailable_in_time(app.get("/profile", "ann")).await;

    app.network().resume();
    let back = Instant::now();
    loop {
        if app.get("/profile", "ann").await.status == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "not serving again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.post("/food-entries", "ann", entry())
        .await
        .assert_status(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_the_service_serves_again_within_10_s() {
    let app = app().await;
    warm(&app, 5).await;
    // The pooled connections now lead to a database that will never answer.
    app.network().fail_over();
    let failed_over = Instant::now();
    let mut served = 0;
    while served < 10 {
        let started = Instant::now();
        let response = app.get("/profile", "ann").await;
        assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
        if response.status == 200 {
            served += 1;
        } else {
            response.assert_error(503, "UNAVAILABLE");
            assert_eq!(
                served, 0,
                "a request failed after the service had recovered"
            );
        }
        assert!(
            failed_over.elapsed() < Duration::from_secs(10) || served > 0,
            "still failing {:?} after the failover",
            failed_over.elapsed()
        );
    }
    // Writes and concurrent requests are served too.
    for response in join_all((0..5).map(|_| app.post("/food-entries", "ann", entry()))).await {
        response.assert_status(201);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_no_request_fails() {
    let app = app().await;
    warm(&app, 5).await;
    app.post("/food-entries", "ann", entry())
        .await
        .assert_status(201);
    // Every pooled connection is now dead; the database answers new ones.
    app.network().drop_connections();
    for _ in 0..3 {
        app.get("/profile", "ann").await.assert_status(200);
        app.post("/food-entries", "ann", entry())
            .await
            .assert_status(201);
    }
    app.network().drop_connections();
    for response in join_all((0..8).map(|_| app.get("/food-entries", "ann"))).await {
        response.assert_status(200);
    }
    let health = app.request(http::Method::GET, "/health").send().await;
    health.assert_status(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_down_is_503_within_5_s_and_is_used_again_when_back() {
    let app = app().await;
    warm(&app, 2).await;
    app.network().cut();
    unavailable_in_time(app.get("/profile", "ann")).await;
    unavailable_in_time(app.post("/food-entries", "ann", entry())).await;
    app.network().restore();
    app.get("/profile", "ann").await.assert_status(200);
    app.post("/food-entries", "ann", entry())
        .await
        .assert_status(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_out_of_connections_answers_503_at_once_and_serves_when_one_is_free() {
    // A role allowed no connection is refused the way a server at max_connections refuses
    // everyone: SQLSTATE 53300, "too many connections".
    let role = format!("no_slots_{}", std::process::id());
    let admin_url = testkit::TestDb::admin_url();
    run_sql(
        &admin_url,
        format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"),
    )
    .await;
    let app = TestApp::builder(Backend::Postgres)
        .database_user(&role)
        .start()
        .await;
    run_sql(
        app.db.url(),
        format!(
            "GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; \
             GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ),
    )
    .await;

    // Answered without waiting for the pool's deadline (4.5 s here): a refused connection is
    // not retried.
    let started = Instant::now();
    app.post("/food-entries", "ann", entry())
        .await
        .assert_error(503, "UNAVAILABLE");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "answered after {took:?}");

    run_sql(&admin_url, format!("ALTER ROLE {role} CONNECTION LIMIT -1")).await;
    app.post("/food-entries", "ann", entry())
        .await
        .assert_status(201);
    let db_url = app.db.url().to_owned();
    app.state.store().close().await;
    run_sql(&db_url, format!("DROP OWNED BY {role}")).await;
    drop(app);
    run_sql(&admin_url, format!("DROP ROLE {role}")).await;
}

/// Runs `sql` as the test server's user on the database of `url`.
async fn run_sql(url: &str, sql: String) {
    use testkit::sqlx::Connection;
    let mut conn = testkit::sqlx::PgConnection::connect(url)
        .await
        .expect("the test server accepts its user");
    testkit::sqlx::raw_sql(testkit::sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("the statement runs");
}
