//! The faulty network itself: what it passes, holds and closes.

use std::time::Duration;

use sqlx::{Connection, PgConnection};
use testkit::{FaultyProxy, TestDb};

async fn connect(url: &str) -> PgConnection {
    tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url))
        .await
        .expect("connects in time")
        .expect("connects")
}

async fn answers(connection: &mut PgConnection) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), connection.ping()).await,
        Ok(Ok(()))
    )
}

#[tokio::test]
async fn pause_fail_over_cut_and_drop() {
    let url = TestDb::admin_url();
    let target = {
        let parsed = url::Url::parse(&url).unwrap();
        format!(
            "{}:{}",
            parsed.host_str().unwrap(),
            parsed.port().unwrap_or(5432)
        )
    };
    let proxy = FaultyProxy::start(target).await;
    let through = proxy.url(&url);

    let mut old = connect(&through).await;
    assert!(answers(&mut old).await);
    proxy.pause();
    assert!(!answers(&mut old).await, "a paused connection is silent");
    proxy.resume();

    let mut old = connect(&through).await;
    proxy.fail_over();
    assert!(
        !answers(&mut old).await,
        "an old connection is silent after a failover"
    );
    let mut new = connect(&through).await;
    assert!(answers(&mut new).await, "a new one passes");
    drop(old);

    proxy.drop_connections();
    assert!(!answers(&mut new).await, "dropped");
    let mut fresh = connect(&through).await;
    assert!(answers(&mut fresh).await);

    proxy.cut();
    assert!(!answers(&mut fresh).await);
    assert!(
        tokio::time::timeout(Duration::from_secs(2), PgConnection::connect(&through))
            .await
            .is_ok_and(|connected| connected.is_err()),
        "refused while cut"
    );
    proxy.restore();
    let mut back = connect(&through).await;
    assert!(answers(&mut back).await);
}

/// The kernel watches the store's database sockets (TCP keepalive), so a peer that vanished
/// without closing is noticed even on an idle pooled connection.
#[tokio::test]
async fn the_store_s_database_sockets_have_keepalive() {
    let (db, store) = TestDb::migrated(testkit::Backend::Postgres).await;
    store.ping().await.unwrap();
    let port = url::Url::parse(db.url()).unwrap().port().unwrap_or(5432);
    let output = std::process::Command::new("ss")
        .args([
            "-tnoHp",
            "state",
            "established",
            &format!("( dport = :{port} )"),
        ])
        .output()
        .expect("ss (iproute2) runs");
    let ours = format!("pid={},", std::process::id());
    let lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(&ours))
        .map(str::to_owned)
        .collect();
    assert!(!lines.is_empty(), "no connection of this process found");
    for line in lines {
        assert!(line.contains("timer:(keepalive"), "{line}");
    }
}
