//! `bench_ingest`: what the service costs on top of its database, and whether reading results
//! stays flat as raw events pile up. Run through `scripts/bench-ingest`.
//!
//! For each database (SQLite, and PostgreSQL when reachable) it
//! 1. starts the real `vibariant-server` (release) on a fresh database and lets several
//!    concurrent clients post batches of 50 events on loopback for a fixed time, counting the
//!    events acknowledged with a 2xx (events per second sustained, batch latency p50/p99);
//! 2. writes the same rows straight into the same database with no HTTP and no aggregates — a
//!    multi-row INSERT in one transaction on SQLite, `COPY` on PostgreSQL — for the ratio;
//! 3. on another fresh database, seeds the raw `events` table with a SQL generator
//!    (`WITH RECURSIVE` / `generate_series`) plus matching aggregates, and times
//!    `GET /v1/experiments/{id}/results` at each requested size (10 thousand and 10 million
//!    stored events by default), reporting p50/p99 and how long the seeding took.
//!
//! Clients and server share the machine, so the figures are a floor for a machine with more
//! cores than this benchmark's clients.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::sync::Mutex;
use vibariant_backend::Store;
use vibariant_backend::first_run::{CreatedProject, create_project};

/// Measures ingestion throughput against raw database speed, and results latency by size.
#[derive(Debug, Parser)]
struct Args {
    /// The `vibariant-server` binary to benchmark (build it with `--release`).
    #[arg(long)]
    server: PathBuf,
    /// A PostgreSQL server URL (its database is used only to create and drop bench databases).
    #[arg(long)]
    postgres: Option<String>,
    /// Databases to run: `sqlite`, `postgres`, or both.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    databases: Vec<String>,
    /// Concurrent HTTP clients posting batches.
    #[arg(long, default_value_t = 8)]
    clients: u64,
    /// Seconds of sustained load per database.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Stored-event counts at which the results endpoint is timed, ascending.
    #[arg(long, value_delimiter = ',', default_value = "10000,10000000")]
    sizes: Vec<u64>,
    /// Timed results requests per size (after 20 untimed ones).
    #[arg(long, default_value_t = 300)]
    requests: usize,
}

/// Events per batch, as the brief and the SDK's default batch size.
const BATCH: u64 = 50;
/// Rows per statement in the raw SQLite insert (the service uses the same chunk size).
const INSERT_CHUNK: usize = 100;
/// Rows per statement while seeding.
const SEED_CHUNK: u64 = 1_000_000;
/// First client timestamp of generated events.
const T0: i64 = 1_796_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
}

/// A database made for the benchmark and removed after it.
struct BenchDb {
    url: String,
    kind: Kind,
    cleanup: Option<(String, String)>,
    dir: Option<PathBuf>,
}

impl BenchDb {
    async fn create(kind: Kind, postgres: Option<&str>) -> anyhow::Result<BenchDb> {
        let suffix = &vibariant_backend::secrets::new_id()[..12];
        match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(format!("vibariant-bench-{suffix}"));
                std::fs::create_dir_all(&dir)?;
                let url = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite3").display());
                Ok(BenchDb { url, kind, cleanup: None, dir: Some(dir) })
            }
            Kind::Postgres => {
                let admin_url = postgres.context("no PostgreSQL URL")?;
                let name = format!("vv_bench_{}", suffix.to_lowercase());
                let mut admin = sqlx::AnyConnection::connect(admin_url).await?;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
                admin.close().await?;
                let url = replace_database(admin_url, &name);
                Ok(BenchDb { url, kind, cleanup: Some((admin_url.to_owned(), name)), dir: None })
            }
        }
    }

    async fn remove(self) {
        if let Some((admin_url, name)) = &self.cleanup
            && let Ok(mut admin) = sqlx::AnyConnection::connect(admin_url).await
        {
            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::raw_sql(&sql).execute(&mut admin).await;
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The same server URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    match query {
        Some(query) => format!("{}/{name}?{query}", &base[..path_start]),
        None => format!("{}/{name}", &base[..path_start]),
    }
}

/// The server under test, as a child process with its log in a file.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(binary: &PathBuf, db: &BenchDb, log: PathBuf) -> anyhow::Result<Server> {
        // A free port, picked here so the server's address is known without reading its log.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .env("DATABASE_URL", &db.url)
            .env("VIBARIANT_ADDR", format!("127.0.0.1:{port}"))
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let server = Server { child, base: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(reply) = http.get(format!("{}/readyz", server.base)).send().await
                && reply.status().is_success()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not become ready; its log is {}", log.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running two-variant experiment with `signup` as its goal; returns its id.
async fn running_experiment(
    http: &reqwest::Client,
    server: &Server,
    key: &str,
    project: &CreatedProject,
) -> anyhow::Result<String> {
    let body = json!({ "key": key, "primary_goal": "signup",
                       "variants": [{ "name": "control" }, { "name": "bold" }] });
    let created: Value = http
        .post(format!("{}/v1/experiments", server.base))
        .bearer_auth(&project.api_key)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"].as_str().context("no experiment id")?.to_owned();
    http.post(format!("{}/v1/experiments/{id}/start", server.base))
        .bearer_auth(&project.api_key)
        .send()
        .await?
        .error_for_status()?;
    Ok(id)
}

/// Batch `number` of `client`: ten visitors, each with an exposure, three page views and a
/// conversion (every third visitor) or a fourth page view.
fn batch(client: u64, number: u64) -> Vec<Value> {
    let mut events = Vec::with_capacity(BATCH as usize);
    for visitor in 0..BATCH / 5 {
        let visitor_id = format!("c{client}-b{number}-v{visitor}");
        let ts = T0 + i64::try_from(number).unwrap_or(0) * 1_000;
        for step in 0..5u64 {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&client.to_be_bytes());
            bytes[8..].copy_from_slice(&(number * 64 + visitor * 5 + step).to_be_bytes());
            let mut event = json!({ "id": vibariant_core::event_id(&bytes),
                "visitor_id": visitor_id, "ts": ts + i64::try_from(step).unwrap_or(0),
                "path": "/pricing", "kind": "pageview" });
            match step {
                0 => {
                    let variant = if visitor % 2 == 0 { "control" } else { "bold" };
                    event["kind"] = json!("exposure");
                    event["experiment"] = json!("bench-cta");
                    event["variant"] = json!(variant);
                }
                4 if visitor % 3 == 0 => {
                    event["kind"] = json!("goal");
                    event["goal"] = json!("signup");
                }
                _ => {}
            }
            events.push(event);
        }
    }
    events
}

/// The p-th percentile (0 to 100) of sorted samples, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank].as_secs_f64() * 1_000.0
}

/// Throughput of the HTTP API under load.
struct Load {
    events_per_sec: f64,
    events: u64,
    batch_p50: f64,
    batch_p99: f64,
    failed: u64,
    /// The acknowledged batches, as (client, number), for the raw comparison.
    batches: Vec<(u64, u64)>,
}

async fn http_load(server: &Server, token: &str, clients: u64, seconds: u64) -> Load {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let record = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, url, token) =
            (http.clone(), format!("{}/v1/events", server.base), token.to_owned());
        let (acked, failed, record) = (acked.clone(), failed.clone(), record.clone());
        tasks.push(tokio::spawn(async move {
            let mut number = 0;
            let (mut latencies, mut batches) = (Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let body = json!({ "events": batch(client, number) }).to_string();
                let sent = Instant::now();
                let reply = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match reply {
                    Ok(reply) if reply.status().is_success() => {
                        let _ = reply.bytes().await;
                        latencies.push(sent.elapsed());
                        batches.push((client, number));
                        acked.fetch_add(BATCH, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                number += 1;
            }
            let mut record = record.lock().await;
            record.0.extend(latencies);
            record.1.extend(batches);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (mut latencies, batches) = std::mem::take(&mut *record.lock().await);
    latencies.sort();
    let events = acked.load(Ordering::Relaxed);
    Load {
        events_per_sec: events as f64 / elapsed,
        events,
        batch_p50: percentile(&latencies, 50.0),
        batch_p99: percentile(&latencies, 99.0),
        failed: failed.load(Ordering::Relaxed),
        batches,
    }
}

/// One raw `events` row, as ingestion stores it.
struct Row {
    event_id: String,
    visitor_id: String,
    kind: String,
    ts: i64,
    path: String,
    experiment_key: Option<String>,
    variant: Option<String>,
    match_key: Option<String>,
    body: String,
}

fn rows_of(batches: &[(u64, u64)]) -> Vec<Row> {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let mut rows = Vec::with_capacity(batches.len() * BATCH as usize);
    for &(client, number) in batches {
        for event in batch(client, number) {
            rows.push(Row {
                event_id: text(&event["id"]).unwrap_or_default(),
                visitor_id: text(&event["visitor_id"]).unwrap_or_default(),
                kind: text(&event["kind"]).unwrap_or_default(),
                ts: event["ts"].as_i64().unwrap_or_default(),
                path: text(&event["path"]).unwrap_or_default(),
                experiment_key: text(&event["experiment"]),
                variant: text(&event["variant"]),
                match_key: text(&event["goal"]).map(|goal| format!("goal:{goal}")),
                body: event.to_string(),
            });
        }
    }
    rows
}

/// Writes `rows` for `project_id` with no HTTP and no aggregates; returns rows per second.
async fn raw_insert(
    db: &BenchDb,
    store: &Store,
    project_id: &str,
    rows: &[Row],
) -> anyhow::Result<f64> {
    let received_at = T0;
    let started = Instant::now();
    match db.kind {
        Kind::Sqlite => {
            let mut tx = store.write().await?;
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut sql = String::from(
                    "INSERT INTO events (project_id, event_id, visitor_id, kind, ts, received_at, \
                     path, experiment_key, variant, match_key, value, body) VALUES ",
                );
                for index in 0..chunk.len() {
                    let base = index * 12;
                    let params: Vec<String> = (1..=12).map(|i| format!("${}", base + i)).collect();
                    if index > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("({})", params.join(",")));
                }
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query
                        .bind(project_id)
                        .bind(&row.event_id)
                        .bind(&row.visitor_id)
                        .bind(&row.kind)
                        .bind(row.ts)
                        .bind(received_at)
                        .bind(&row.path)
                        .bind(&row.experiment_key)
                        .bind(&row.variant)
                        .bind(&row.match_key)
                        .bind(None::<f64>)
                        .bind(&row.body);
                }
                query.execute(&mut **tx).await?;
            }
            tx.commit().await?;
        }
        Kind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await?;
            let mut data = Vec::with_capacity(rows.len() * 300);
            let field = |value: Option<&str>| match value {
                Some(text) => copy_escape(text),
                None => "\\N".to_owned(),
            };
            for row in rows {
                let line = [
                    field(Some(project_id)),
                    field(Some(&row.event_id)),
                    field(Some(&row.visitor_id)),
                    field(Some(&row.kind)),
                    row.ts.to_string(),
                    received_at.to_string(),
                    field(Some(&row.path)),
                    field(row.experiment_key.as_deref()),
                    field(row.variant.as_deref()),
                    field(row.match_key.as_deref()),
                    "\\N".to_owned(),
                    field(Some(&row.body)),
                ]
                .join("\t");
                data.extend_from_slice(line.as_bytes());
                data.push(b'\n');
            }
            let mut copy = conn
                .copy_in_raw(
                    "COPY events (project_id, event_id, visitor_id, kind, ts, received_at, path, \
                     experiment_key, variant, match_key, value, body) FROM STDIN",
                )
                .await?;
            copy.send(data).await?;
            copy.finish().await?;
            conn.close().await?;
        }
    }
    Ok(rows.len() as f64 / started.elapsed().as_secs_f64())
}

/// A value in PostgreSQL's COPY text format.
fn copy_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\t' => escaped.push_str("\\t"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Seeds rows `from..to` of the generated history of experiment `key`: event n belongs to
/// visitor n / 5 and is an exposure (n % 5 = 0), a conversion (n % 5 = 4 for every third
/// visitor) or a page view.
async fn seed_events(
    db: &BenchDb,
    store: &Store,
    project_id: &str,
    key: &str,
    from: u64,
    to: u64,
) -> anyhow::Result<()> {
    let columns = "project_id, event_id, visitor_id, kind, ts, received_at, path, \
                   experiment_key, variant, match_key, value, body";
    // The same expressions on both databases: integer division, CASE, string concatenation.
    let select = |padded_id: &str, padded_visitor: &str| {
        format!(
            "SELECT $1, 'seed-' || {padded_id}, 'sv-' || {padded_visitor}, \
             CASE WHEN n % 5 = 0 THEN 'exposure' \
                  WHEN n % 5 = 4 AND (n / 5) % 3 = 0 THEN 'goal' ELSE 'pageview' END, \
             $2 + n, $2, '/pricing', \
             CASE WHEN n % 5 = 0 THEN $3 END, \
             CASE WHEN n % 5 = 0 THEN (CASE WHEN (n / 5) % 2 = 0 THEN 'control' ELSE 'bold' END) \
             END, \
             CASE WHEN n % 5 = 4 AND (n / 5) % 3 = 0 THEN 'goal:signup' END, \
             NULL, '{{\"seeded\":true}}'"
        )
    };
    let mut start = from;
    while start < to {
        let end = (start + SEED_CHUNK).min(to);
        let sql = match db.kind {
            Kind::Sqlite => format!(
                "WITH RECURSIVE seq(n) AS (SELECT $4 UNION ALL SELECT n + 1 FROM seq WHERE n < $5) \
                 INSERT INTO events ({columns}) {} FROM seq",
                select("printf('%012d', n)", "printf('%011d', n / 5)")
            ),
            Kind::Postgres => format!(
                "INSERT INTO events ({columns}) {} \
                 FROM generate_series($4::BIGINT, $5::BIGINT) AS n",
                select("lpad(n::TEXT, 12, '0')", "lpad((n / 5)::TEXT, 11, '0')")
            ),
        };
        let mut tx = store.write().await?;
        sqlx::query(&sql)
            .bind(project_id)
            .bind(T0)
            .bind(key)
            .bind(i64::try_from(start)?)
            .bind(i64::try_from(end - 1)?)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        start = end;
    }
    Ok(())
}

/// Sets the experiment's aggregates to what the first `count` generated events add up to.
async fn seed_aggregates(store: &Store, experiment_id: &str, count: u64) -> anyhow::Result<()> {
    // [control, bold]: visitors, conversions, visitors with page views, page views.
    let mut totals = [[0i64; 4]; 2];
    for visitor in 0..count.div_ceil(5) {
        let totals = &mut totals[(visitor % 2) as usize];
        totals[0] += 1;
        let first = visitor * 5;
        let views = (1..=3).filter(|step| first + step < count).count() as i64
            + i64::from(first + 4 < count && visitor % 3 != 0);
        totals[1] += i64::from(first + 4 < count && visitor % 3 == 0);
        totals[2] += i64::from(views > 0);
        totals[3] += views;
    }
    let mut tx = store.write().await?;
    for (variant, [visitors, conversions, viewers, views]) in ["control", "bold"].iter().zip(totals)
    {
        sqlx::query(
            "INSERT INTO variant_stats (experiment_id, variant, visitors) VALUES ($1, $2, $3) \
             ON CONFLICT (experiment_id, variant) DO UPDATE SET visitors = excluded.visitors",
        )
        .bind(experiment_id)
        .bind(*variant)
        .bind(visitors)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO goal_stats (experiment_id, variant, goal_key, conversions, value_sum) \
             VALUES ($1, $2, 'signup', $3, 0.0) ON CONFLICT (experiment_id, variant, goal_key) \
             DO UPDATE SET conversions = excluded.conversions",
        )
        .bind(experiment_id)
        .bind(*variant)
        .bind(conversions)
        .execute(&mut **tx)
        .await?;
        // Each viewer has 3 or 4 views (fewer only at the cut): close enough for a sum of
        // squares that only feeds the engagement proxy's variance.
        let mean = if viewers > 0 { views as f64 / viewers as f64 } else { 0.0 };
        sqlx::query(
            "INSERT INTO metric_stats (experiment_id, variant, metric, n, value_sum, \
             value_sum_sq) VALUES ($1, $2, 'pageviews', $3, $4, $5) \
             ON CONFLICT (experiment_id, variant, metric) DO UPDATE SET n = excluded.n, \
             value_sum = excluded.value_sum, value_sum_sq = excluded.value_sum_sq",
        )
        .bind(experiment_id)
        .bind(*variant)
        .bind(viewers)
        .bind(views as f64)
        .bind(viewers as f64 * mean * mean)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Times the results endpoint: 20 untimed requests, then `requests` timed ones, one at a time.
async fn results_latency(
    server: &Server,
    api_key: &str,
    experiment_id: &str,
    requests: usize,
) -> anyhow::Result<(f64, f64)> {
    let http = reqwest::Client::new();
    let url = format!("{}/v1/experiments/{experiment_id}/results", server.base);
    let mut samples = Vec::with_capacity(requests);
    for round in 0..requests + 20 {
        let started = Instant::now();
        let reply = http.get(&url).bearer_auth(api_key).send().await?.error_for_status()?;
        let body: Value = reply.json().await?;
        if round >= 20 {
            samples.push(started.elapsed());
        }
        if body["analysis"].is_null() {
            bail!("the results carry no analysis: {body}");
        }
    }
    samples.sort();
    Ok((percentile(&samples, 50.0), percentile(&samples, 99.0)))
}

async fn stored_events(store: &Store) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(store.pool()).await?)
}

#[allow(clippy::print_stdout, reason = "the report is the program's output")]
async fn bench(args: &Args, kind: Kind) -> anyhow::Result<()> {
    let name = if kind == Kind::Sqlite { "SQLite" } else { "PostgreSQL" };
    let postgres = args.postgres.as_deref();
    let http = reqwest::Client::new();

    // 1 and 2: throughput through HTTP, then the same rows straight into the database.
    let db = BenchDb::create(kind, postgres).await?;
    let store = Store::connect(&db.url).await?;
    let project = create_project(&store, "bench").await?;
    let raw_project = create_project(&store, "raw").await?;
    let log = std::env::temp_dir().join(format!("vibariant-bench-{name}.log"));
    let server = Server::start(&args.server, &db, log).await?;
    running_experiment(&http, &server, "bench-cta", &project).await?;
    println!(
        "{name}: {} clients posting batches of {BATCH} for {} s ...",
        args.clients, args.seconds
    );
    let load = http_load(&server, &project.project_token, args.clients, args.seconds).await;
    drop(server);
    let rows = rows_of(&load.batches);
    let raw = raw_insert(&db, &store, &raw_project.project_id, &rows).await?;
    println!(
        "{name}: HTTP {:.0} events/s ({} events, {} failed batches; batch latency p50 {:.1} ms, \
         p99 {:.1} ms); raw {} {:.0} rows/s; HTTP/raw = {:.3}",
        load.events_per_sec,
        load.events,
        load.failed,
        load.batch_p50,
        load.batch_p99,
        if kind == Kind::Sqlite { "multi-row INSERT" } else { "COPY" },
        raw,
        load.events_per_sec / raw
    );
    store.close().await;
    db.remove().await;

    // 3: results latency as stored events grow.
    let db = BenchDb::create(kind, postgres).await?;
    let store = Store::connect(&db.url).await?;
    let project = create_project(&store, "results").await?;
    let log = std::env::temp_dir().join(format!("vibariant-bench-{name}-results.log"));
    let server = Server::start(&args.server, &db, log).await?;
    let experiment_id = running_experiment(&http, &server, "results-cta", &project).await?;
    let mut seeded = 0;
    for &size in &args.sizes {
        let started = Instant::now();
        // Large seeds fill the table first and build its secondary indexes once afterwards
        // (the migration's definitions), which is several times faster than growing them row
        // by row; the primary key stays in place throughout.
        let bulk = size.saturating_sub(seeded) > SEED_CHUNK;
        if bulk {
            sqlx::raw_sql("DROP INDEX events_visitor; DROP INDEX events_match;")
                .execute(store.pool())
                .await?;
        }
        seed_events(&db, &store, &project.project_id, "results-cta", seeded, size).await?;
        if bulk {
            sqlx::raw_sql(
                "CREATE INDEX events_visitor ON events (project_id, visitor_id, ts); \
                 CREATE INDEX events_match ON events (project_id, match_key);",
            )
            .execute(store.pool())
            .await?;
        }
        // A bulk load leaves work behind that steady ingestion does a little at a time (SQLite's
        // WAL checkpoint; PostgreSQL's checkpoint, vacuum and statistics); done here, it is
        // counted as seeding instead of slowing the timed requests.
        // (VACUUM cannot share a multi-statement string: that runs as one transaction.)
        let settle: &[&str] = match db.kind {
            Kind::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)"],
            Kind::Postgres => &["CHECKPOINT", "VACUUM ANALYZE events"],
        };
        for statement in settle {
            sqlx::raw_sql(statement).execute(store.pool()).await?;
        }
        let seeding = started.elapsed().as_secs_f64();
        let stored = stored_events(&store).await?;
        // First with the aggregates of the smallest size, so only the stored events differ;
        // then with the aggregates that match the stored events, as a real project would have.
        let smallest = args.sizes.first().copied().unwrap_or(size);
        if size != smallest {
            seed_aggregates(&store, &experiment_id, smallest).await?;
            let (p50, p99) =
                results_latency(&server, &project.api_key, &experiment_id, args.requests).await?;
            println!(
                "{name}: results at {stored} stored events, counts of {smallest} events: \
                 p50 {p50:.2} ms, p99 {p99:.2} ms"
            );
        }
        seed_aggregates(&store, &experiment_id, size).await?;
        seeded = size.max(seeded);
        let (p50, p99) =
            results_latency(&server, &project.api_key, &experiment_id, args.requests).await?;
        println!(
            "{name}: results at {stored} stored events, counts of {size} events: p50 {p50:.2} ms, \
             p99 {p99:.2} ms ({} requests; seeding to this size took {seeding:.1} s)",
            args.requests
        );
    }
    drop(server);
    store.close().await;
    db.remove().await;
    Ok(())
}

#[tokio::main]
#[allow(clippy::print_stdout, reason = "the report is the program's output")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The bench makes its PostgreSQL databases through `AnyConnection` before any store exists.
    sqlx::any::install_default_drivers();
    for database in &args.databases {
        match database.as_str() {
            "sqlite" => bench(&args, Kind::Sqlite).await?,
            "postgres" => match &args.postgres {
                Some(_) => bench(&args, Kind::Postgres).await?,
                None => println!("PostgreSQL: skipped (no --postgres URL, or not reachable)"),
            },
            other => bail!("unknown database {other:?}: use sqlite or postgres"),
        }
    }
    Ok(())
}
