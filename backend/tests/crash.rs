//! Crash safety of ingestion: the real `vibariant-server` is killed with SIGKILL in the middle of
//! a load and restarted on the same database.
//!
//! Several clients post batches of 50 events (unique ids, an exposure, page views and sometimes
//! a conversion per visitor) and remember which batches were acknowledged with a 2xx. After the
//! kill and a restart, the test checks that
//! - every acknowledged event is stored, exactly once (the primary key makes "more than once"
//!   impossible, so the check is that none is missing);
//! - a batch that was in flight is stored whole or not at all (one transaction);
//! - the aggregates equal a recount from the raw `events` table in SQL;
//! - resending every batch to the restarted server stores the missing ones, counts the stored
//!   ones as duplicates, and leaves the aggregates equal to the recount.
//!
//! It runs on SQLite, and on PostgreSQL when `VIBARIANT_TEST_POSTGRES` names a server.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Backend, TestDb, event};
use serde_json::{Value, json};
use sqlx::Row as _;
use vibariant_backend::Store;
use vibariant_backend::first_run::{CreatedProject, create_project};

/// Concurrent clients posting batches.
const CLIENTS: u64 = 4;
/// Visitors per batch; each gets five events, so a batch holds 50.
const VISITORS_PER_BATCH: u64 = 10;
/// The most batches one client sends before the kill (a bound, rarely reached).
const MAX_BATCHES_PER_CLIENT: u64 = 5_000;
/// Acknowledged batches to wait for before the kill, so the load is well under way.
const ACKED_BEFORE_KILL: usize = 40;
/// The experiment every exposure is for.
const EXPERIMENT: &str = "crash-cta";
/// First client timestamp of the load.
const T0: i64 = 1_796_000_000_000;

/// The server as a child process, killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary on `database_url` on a free loopback port and waits until it listens.
    fn start(database_url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vibariant-server"))
            .env("DATABASE_URL", database_url)
            .env("VIBARIANT_ADDR", "127.0.0.1:0")
            .env("VIBARIANT_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn,tower_http=warn")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vibariant-server");
        let stderr = child.stderr.take().expect("the server's stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, listening) = std::sync::mpsc::channel();
        let lines = log.clone();
        // The log is read to its end so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["fields"]["message"] == "listening"
                    && let Some(addr) = entry["fields"]["addr"].as_str()
                {
                    let _ = found.send(addr.to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match listening.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        Server { child, addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGKILL: no shutdown handler runs, in-flight transactions are cut off.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The 50 events of one batch: per visitor an exposure, three page views, and a conversion for
/// every third visitor (a page view for the others). Each visitor sees one variant only, so the
/// recount can group by variant.
fn batch(client: u64, number: u64) -> Vec<Value> {
    let mut events = Vec::with_capacity(50);
    for visitor in 0..VISITORS_PER_BATCH {
        let visitor_id = format!("c{client}-b{number}-v{visitor}");
        let variant = if visitor % 2 == 0 { "control" } else { "bold" };
        let base = (client * MAX_BATCHES_PER_CLIENT + number) * 100 + visitor * 5;
        let ts = T0 + i64::try_from(number).unwrap() * 1_000;
        events.push(event(
            base,
            &visitor_id,
            ts,
            "exposure",
            json!({ "experiment": EXPERIMENT, "variant": variant }),
        ));
        for step in 1..=3 {
            events.push(event(
                base + step,
                &visitor_id,
                ts + i64::try_from(step).unwrap(),
                "pageview",
                json!({}),
            ));
        }
        events.push(if visitor % 3 == 0 {
            event(base + 4, &visitor_id, ts + 10, "goal", json!({ "goal": "signup" }))
        } else {
            event(base + 4, &visitor_id, ts + 10, "pageview", json!({}))
        });
    }
    events
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|event| event["id"].as_str().unwrap().to_owned()).collect()
}

/// What the clients saw.
#[derive(Default)]
struct Ledger {
    /// Batches answered with a 2xx: (client, number).
    acknowledged: Vec<(u64, u64)>,
    /// Batches sent without a 2xx answer (cut off by the kill).
    uncertain: Vec<(u64, u64)>,
}

/// Creates and starts the experiment through the API.
async fn start_experiment(http: &reqwest::Client, server: &Server, project: &CreatedProject) {
    let body = json!({ "key": EXPERIMENT, "primary_goal": "signup",
                       "variants": [{ "name": "control" }, { "name": "bold" }] });
    let created = http
        .post(server.url("/v1/experiments"))
        .bearer_auth(&project.api_key)
        .json(&body)
        .send()
        .await
        .expect("create the experiment");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let started = http
        .post(server.url(&format!("/v1/experiments/{id}/start")))
        .bearer_auth(&project.api_key)
        .send()
        .await
        .expect("start the experiment");
    assert_eq!(started.status(), 200);
}

/// Posts batches from several clients until the server dies; kills it once enough batches
/// were acknowledged.
async fn load_and_kill(server: &mut Server, token: &str) -> Ledger {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let acked = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (http, url, token) = (http.clone(), server.url("/v1/events"), token.to_owned());
        let (ledger, acked) = (ledger.clone(), acked.clone());
        clients.push(tokio::spawn(async move {
            for number in 0..MAX_BATCHES_PER_CLIENT {
                let body = json!({ "events": batch(client, number) });
                let sent = http.post(&url).bearer_auth(&token).json(&body).send().await;
                match sent {
                    Ok(reply) if reply.status().is_success() => {
                        ledger.lock().unwrap().acknowledged.push((client, number));
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(reply) if reply.status().is_client_error() => {
                        panic!("a valid batch was refused: {}", reply.status());
                    }
                    // A 5xx or a cut connection: the batch may or may not be stored.
                    _ => {
                        ledger.lock().unwrap().uncertain.push((client, number));
                        return;
                    }
                }
            }
        }));
    }

    for _ in 0..600 {
        if acked.load(Ordering::SeqCst) >= ACKED_BEFORE_KILL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        acked.load(Ordering::SeqCst) >= ACKED_BEFORE_KILL,
        "the load did not get going:\n{}",
        server.log.lock().unwrap().join("\n")
    );
    server.kill();
    for client in clients {
        client.await.expect("a client task");
    }
    Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap()
}

/// Every stored event id of the project.
async fn stored_ids(store: &Store, project_id: &str) -> HashSet<String> {
    sqlx::query("SELECT event_id FROM events WHERE project_id = $1")
        .bind(project_id)
        .fetch_all(store.pool())
        .await
        .expect("read the stored event ids")
        .into_iter()
        .map(|row| row.get(0))
        .collect()
}

/// Per variant: (visitors, conversions, visitors with page views, page views).
type Counts = BTreeMap<String, (i64, i64, i64, f64)>;

/// The aggregates as stored.
async fn stored_aggregates(store: &Store) -> Counts {
    let pool = store.pool();
    let mut counts = Counts::new();
    for row in
        sqlx::query("SELECT variant, visitors FROM variant_stats").fetch_all(pool).await.unwrap()
    {
        counts.entry(row.get(0)).or_default().0 = row.get(1);
    }
    let goals = "SELECT variant, conversions FROM goal_stats WHERE goal_key = 'signup'";
    for row in sqlx::query(goals).fetch_all(pool).await.unwrap() {
        counts.entry(row.get(0)).or_default().1 = row.get(1);
    }
    let views = "SELECT variant, n, value_sum FROM metric_stats WHERE metric = 'pageviews'";
    for row in sqlx::query(views).fetch_all(pool).await.unwrap() {
        let entry = counts.entry(row.get(0)).or_default();
        entry.2 = row.get(1);
        entry.3 = row.get(2);
    }
    counts
}

/// The same numbers recounted from the raw events alone: a visitor counts in the variant of
/// their exposure, and a conversion or page view counts when it is at or after that exposure.
async fn recounted_aggregates(store: &Store, project_id: &str) -> Counts {
    let pool = store.pool();
    let exposed = "SELECT visitor_id, variant, MIN(ts) AS ts FROM events \
                   WHERE project_id = $1 AND kind = 'exposure' AND experiment_key = $2 \
                   GROUP BY visitor_id, variant";
    let mut counts = Counts::new();
    let visitors = format!("SELECT variant, COUNT(*) FROM ({exposed}) x GROUP BY variant");
    for row in
        sqlx::query(&visitors).bind(project_id).bind(EXPERIMENT).fetch_all(pool).await.unwrap()
    {
        counts.entry(row.get(0)).or_default().0 = row.get(1);
    }
    let conversions = format!(
        "SELECT x.variant, COUNT(DISTINCT g.visitor_id) FROM events g JOIN ({exposed}) x \
         ON x.visitor_id = g.visitor_id AND g.ts >= x.ts \
         WHERE g.project_id = $1 AND g.kind = 'goal' AND g.match_key = 'goal:signup' \
         GROUP BY x.variant"
    );
    for row in
        sqlx::query(&conversions).bind(project_id).bind(EXPERIMENT).fetch_all(pool).await.unwrap()
    {
        counts.entry(row.get(0)).or_default().1 = row.get(1);
    }
    let views = format!(
        "SELECT x.variant, COUNT(DISTINCT p.visitor_id), COUNT(*) FROM events p \
         JOIN ({exposed}) x ON x.visitor_id = p.visitor_id AND p.ts >= x.ts \
         WHERE p.project_id = $1 AND p.kind = 'pageview' GROUP BY x.variant"
    );
    for row in sqlx::query(&views).bind(project_id).bind(EXPERIMENT).fetch_all(pool).await.unwrap()
    {
        let entry = counts.entry(row.get(0)).or_default();
        entry.2 = row.get(1);
        entry.3 = row.get::<i64, _>(2) as f64;
    }
    counts
}

async fn acknowledged_events_survive_a_sigkill(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let project = {
        let store = Store::connect(&db.url).await.expect("open the database");
        let project = create_project(&store, "crash").await.expect("create a project");
        store.close().await;
        project
    };
    let http = reqwest::Client::new();

    let mut server = Server::start(&db.url);
    start_experiment(&http, &server, &project).await;
    let ledger = load_and_kill(&mut server, &project.project_token).await;
    assert!(!ledger.uncertain.is_empty(), "the kill cut no batch off: the load was not running");
    eprintln!(
        "{backend:?}: {} batches acknowledged, {} cut off by SIGKILL",
        ledger.acknowledged.len(),
        ledger.uncertain.len()
    );

    // Restart on the same database; the restart itself must not lose or add anything.
    let restarted = Server::start(&db.url);
    let store = Store::connect(&db.url).await.expect("reopen the database");
    let stored = stored_ids(&store, &project.project_id).await;
    for &(client, number) in &ledger.acknowledged {
        let missing: Vec<String> =
            ids(&batch(client, number)).into_iter().filter(|id| !stored.contains(id)).collect();
        assert!(missing.is_empty(), "acknowledged batch {client}/{number} lost {missing:?}");
    }
    for &(client, number) in &ledger.uncertain {
        let kept = ids(&batch(client, number)).iter().filter(|id| stored.contains(*id)).count();
        assert!(kept == 0 || kept == 50, "batch {client}/{number} is half stored: {kept} of 50");
    }
    let acked_events = ledger.acknowledged.len() * 50;
    assert!(
        stored.len() >= acked_events && stored.len() <= acked_events + ledger.uncertain.len() * 50
    );
    let stored_counts = stored_aggregates(&store).await;
    assert_eq!(stored_counts, recounted_aggregates(&store, &project.project_id).await);
    assert!(stored_counts.values().map(|counts| counts.0).sum::<i64>() > 0);

    // Every batch sent again: the stored ones are duplicates, the cut-off ones are stored now.
    let url = restarted.url("/v1/events");
    let mut duplicates = 0;
    for &(client, number) in ledger.acknowledged.iter().chain(&ledger.uncertain) {
        let body = json!({ "events": batch(client, number) });
        let reply = http.post(&url).bearer_auth(&project.project_token).json(&body).send().await;
        let reply: Value = reply.expect("the restarted server answers").json().await.unwrap();
        duplicates += reply["duplicates"].as_u64().expect("a report");
    }
    assert_eq!(duplicates, u64::try_from(stored.len()).unwrap());
    let all_sent = (ledger.acknowledged.len() + ledger.uncertain.len()) * 50;
    assert_eq!(stored_ids(&store, &project.project_id).await.len(), all_sent);
    let final_counts = stored_aggregates(&store).await;
    assert_eq!(final_counts, recounted_aggregates(&store, &project.project_id).await);
    let visitors: i64 = final_counts.values().map(|counts| counts.0).sum();
    assert_eq!(visitors, i64::try_from(all_sent / 5).unwrap(), "every visitor counted once");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_a_sigkill_on_sqlite() {
    acknowledged_events_survive_a_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_a_sigkill_on_postgres() {
    acknowledged_events_survive_a_sigkill(Backend::Postgres).await;
}
