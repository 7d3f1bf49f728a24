//! `POST /v1/events`: batches of events in, raw events and aggregates out, in one transaction.
//!
//! The rules, in the order a batch meets them:
//! - The body is JSON (`application/json`, or `text/plain` from `sendBeacon`), at most
//!   [`crate::INGEST_BODY_LIMIT`] bytes, shaped `{"events": [...]}`.
//! - Each event is parsed and validated on its own with the core's event model; a bad event is
//!   listed in `rejected` with its index and reason and the good ones are kept.
//! - An event id already stored for the project (or repeated in the batch) is a duplicate and
//!   counts nothing: a retried batch counts once.
//! - The first exposure of a visitor to a running experiment counts the visitor in that
//!   variant; later exposures are stored but count nothing (sticky).
//! - Attribution: an event counts for an experiment when the visitor's first exposure to it
//!   has a client timestamp at or before the event's. Arrival order does not matter: when an
//!   exposure arrives after events that followed it on the client (a beacon overtaking a
//!   fetch), those stored events are attributed at that moment. Events before the exposure
//!   never count: the variant cannot have caused them.
//! - A conversion counts once per visitor, goal and experiment. Goals are the project's
//!   confirmed goals (see [`crate::goals`]); running and paused experiments count conversions
//!   and engagement of visitors already exposed, completed ones count nothing.
//! - Clicks and form submits are scored with the core's goal heuristics here, on the server
//!   (a client's opinion is not trusted), and grouped into goal candidates.
//!
//! Everything a batch changes is written in one transaction, so a crash leaves raw events and
//! aggregates in step. A PostgreSQL deadlock or SQLite timeout retries the whole batch.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row as _};
use vibariant_core::event::{ElementDescription, Event, EventPayload};

use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::secrets::now_ms;
use crate::state::AppState;
use crate::store::{DbKind, is_retryable};

/// The stats engine's per-visitor engagement score (default weights and caps), the proxy the
/// analysis uses as a leading indicator.
pub const ENGAGEMENT_SCORE: &str = "engagement_score";

/// Engagement metrics kept per visitor and variant, usable as an experiment's proxy metrics:
/// the combined score and the raw metrics it is made of (plus page views).
pub const PROXY_METRICS: &[&str] =
    &[ENGAGEMENT_SCORE, "scroll_depth", "engaged_seconds", "clicks", "form_starts", "pageviews"];

/// Most events one batch may hold (64 KB of the smallest events is about 600).
pub const MAX_EVENTS_PER_BATCH: usize = 1_000;

/// How many times a batch is retried after a transient database conflict.
const ATTEMPTS: usize = 3;

/// Rows per multi-row INSERT (12 parameters each, far under either database's limit).
const INSERT_CHUNK: usize = 100;

/// Stored events read back per visitor when a late exposure is attributed.
const LOOKBACK_LIMIT: i64 = 5_000;

/// One event the batch did not keep.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// Position in the batch.
    pub index: usize,
    /// The event's id when it had a readable one.
    pub id: Option<String>,
    /// What was wrong.
    pub reason: String,
}

/// The answer to a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Events stored now.
    pub accepted: usize,
    /// Events already stored (or repeated in the batch); nothing counted again.
    pub duplicates: usize,
    /// Events refused, with reasons.
    pub rejected: Vec<Rejection>,
}

/// A valid event ready to store.
#[derive(Debug)]
struct Incoming {
    event: Event,
    body: String,
    match_key: Option<String>,
    candidate: Option<Candidate>,
}

/// A goal candidate seen on a click or submit.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Stable, URL-safe key: `category-kind-hash`.
    pub key: String,
    /// The core's category name.
    pub category: &'static str,
    /// `click` or `form_submit`.
    pub event_kind: &'static str,
    /// What a person recognises it by (text, label, id or name).
    pub label: String,
    /// The core's confidence.
    pub confidence: f64,
}

/// Scores an element with the core's heuristics; a candidate when confident enough.
pub fn candidate_for(element: &ElementDescription, event_kind: &'static str) -> Option<Candidate> {
    let scored = vibariant_core::score_element(element)?;
    if !scored.is_candidate() {
        return None;
    }
    let label = [&element.text, &element.aria_label, &element.id, &element.name, &element.href]
        .into_iter()
        .flatten()
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|text| !text.is_empty())
        .unwrap_or_else(|| element.tag.clone());
    let label: String = label.chars().take(256).collect();
    let category = scored.category.as_str();
    // Grouping by a normalised label keeps one candidate per call to action, across pages and
    // small text changes in case and spacing.
    let digest = Sha256::digest(format!("{}|{}", element.tag, label.to_lowercase()).as_bytes());
    let key = format!("{category}-{event_kind}-{}", &hex::encode(digest)[..12]);
    Some(Candidate { key, category, event_kind, label, confidence: f64::from(scored.confidence) })
}

/// `POST /v1/events`.
pub async fn ingest(
    State(state): State<AppState>,
    access: ProjectAccess,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_content_type(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(crate::MAX_BATCH_BYTES)
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })?;
    if body.len() > crate::INGEST_BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge(crate::MAX_BATCH_BYTES));
    }
    let (incoming, mut report) = parse_batch(&body)?;
    let total = incoming.len() + report.rejected.len() + report.duplicates;

    let project_id = access.project_id;
    let mut attempt = 0;
    let stored = loop {
        attempt += 1;
        match store_batch(&state, &project_id, &incoming).await {
            Ok(stored) => break stored,
            Err(error) if attempt < ATTEMPTS && is_retryable(&error) => {
                tracing::debug!(attempt, %error, "retrying a batch after a transient conflict");
            }
            Err(error) => return Err(error.into()),
        }
    };
    report.accepted = stored;
    report.duplicates += incoming.len() - stored;
    tracing::debug!(
        accepted = report.accepted,
        duplicates = report.duplicates,
        rejected = report.rejected.len(),
        "batch ingested"
    );

    if total > 0 && report.accepted + report.duplicates == 0 {
        // Nothing usable: a 4xx tells the SDK to drop the batch instead of retrying it.
        let body = json!({
            "error": { "code": "unprocessable", "message": "no event in the batch is valid" },
            "rejected": report.rejected,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    Ok(Json(report).into_response())
}

fn check_content_type(headers: &HeaderMap) -> ApiResult<()> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        // `sendBeacon` with a string always sets text/plain; a missing type is parsed as JSON.
        return Ok(());
    };
    let media_type = value.to_str().unwrap_or_default().split(';').next().unwrap_or_default();
    match media_type.trim().to_ascii_lowercase().as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(
            "events are sent as application/json or text/plain".into(),
        )),
    }
}

/// Whether any string in the value, object keys included, holds U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => {
            fields.iter().any(|(key, field)| key.contains('\0') || holds_nul(field))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Splits a batch into valid events and a report of the rejected and repeated ones.
fn parse_batch(body: &[u8]) -> ApiResult<(Vec<Incoming>, IngestReport)> {
    let batch: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("the body is not valid JSON: {error}")))?;
    let events = match batch.get("events") {
        Some(Value::Array(events)) => events,
        _ => {
            return Err(ApiError::bad_request(
                "the body must be an object with an \"events\" array",
            ));
        }
    };
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(ApiError::Unprocessable(format!(
            "a batch holds at most {MAX_EVENTS_PER_BATCH} events, got {}",
            events.len()
        )));
    }

    let mut report = IngestReport::default();
    let mut incoming = Vec::with_capacity(events.len());
    let mut seen = HashSet::new();
    for (index, value) in events.iter().enumerate() {
        let id = value.get("id").and_then(Value::as_str).map(|id| id.chars().take(64).collect());
        let reject = |reason: String| Rejection { index, id: id.clone(), reason };
        // Refused here, before any rule of the event model: PostgreSQL's text cannot hold
        // U+0000, and one such string would otherwise fail the whole batch's transaction.
        if holds_nul(value) {
            report.rejected.push(reject("strings may not contain the NUL character".into()));
            continue;
        }
        let event = match serde_json::from_value::<Event>(value.clone()) {
            Ok(event) => event,
            Err(error) => {
                report.rejected.push(reject(error.to_string()));
                continue;
            }
        };
        if let Err(error) = event.validate() {
            report.rejected.push(reject(error.to_string()));
            continue;
        }
        if event.ts <= 0 {
            report.rejected.push(reject("ts must be milliseconds since the Unix epoch".into()));
            continue;
        }
        if let EventPayload::Goal { value: Some(amount), .. } = &event.payload
            && !amount.is_finite()
        {
            report.rejected.push(reject("goal value must be a finite number".into()));
            continue;
        }
        if !seen.insert(event.id.clone()) {
            report.duplicates += 1;
            continue;
        }
        let candidate = match &event.payload {
            EventPayload::Click { element } => candidate_for(element, "click"),
            EventPayload::FormSubmit { element, .. } => candidate_for(element, "form_submit"),
            _ => None,
        };
        let match_key = match &event.payload {
            EventPayload::Goal { goal, .. } => Some(format!("goal:{goal}")),
            EventPayload::Custom { name, .. } => Some(format!("custom:{name}")),
            _ => candidate.as_ref().map(|candidate| format!("candidate:{}", candidate.key)),
        };
        let body = value.to_string();
        incoming.push(Incoming { event, body, match_key, candidate });
    }
    Ok((incoming, report))
}

/// A running or paused experiment, as ingestion needs it.
#[derive(Debug)]
struct LiveExperiment {
    id: String,
    running: bool,
    variants: HashSet<String>,
}

/// A visitor's first exposure to an experiment.
#[derive(Debug, Clone)]
struct Exposure {
    experiment_id: String,
    variant: String,
    exposed_ts: i64,
}

/// What one batch adds to the aggregates, applied at the end in key order so concurrent
/// PostgreSQL transactions take row locks in the same order.
#[derive(Debug, Default)]
struct Deltas {
    visitors: BTreeMap<(String, String), i64>,
    conversions: BTreeMap<(String, String, String), (i64, f64)>,
    metrics: BTreeMap<(String, String, String), (i64, f64, f64)>,
    candidates: BTreeMap<String, (Candidate, i64, i64, i64)>,
}

/// How an event changes a visitor's metric.
#[derive(Debug, Clone, Copy)]
enum MetricChange {
    Add(f64),
    Max(f64),
}

fn metric_change(payload: &EventPayload) -> Option<(&'static str, MetricChange)> {
    match payload {
        EventPayload::Scroll { depth } => {
            Some(("scroll_depth", MetricChange::Max(f64::from(*depth))))
        }
        EventPayload::Engagement { ms } => {
            Some(("engaged_seconds", MetricChange::Add(*ms as f64 / 1000.0)))
        }
        EventPayload::Click { .. } => Some(("clicks", MetricChange::Add(1.0))),
        EventPayload::FormStart { .. } => Some(("form_starts", MetricChange::Add(1.0))),
        EventPayload::Pageview { .. } => Some(("pageviews", MetricChange::Add(1.0))),
        _ => None,
    }
}

/// The parts of a stored or incoming event attribution needs.
#[derive(Debug)]
struct Attributable {
    visitor_id: String,
    ts: i64,
    match_key: Option<String>,
    value: Option<f64>,
    metric: Option<(&'static str, MetricChange)>,
}

impl Attributable {
    fn of(incoming: &Incoming) -> Self {
        let value = match &incoming.event.payload {
            EventPayload::Goal { value, .. } => *value,
            _ => None,
        };
        Attributable {
            visitor_id: incoming.event.visitor_id.clone(),
            ts: incoming.event.ts,
            match_key: incoming.match_key.clone(),
            value,
            metric: metric_change(&incoming.event.payload),
        }
    }
}

/// Stores a batch and updates the aggregates in one transaction; returns how many events were
/// new.
async fn store_batch(
    state: &AppState,
    project_id: &str,
    incoming: &[Incoming],
) -> Result<usize, sqlx::Error> {
    if incoming.is_empty() {
        return Ok(0);
    }
    let store = state.store();
    let mut tx = store.write().await?;
    let conn: &mut AnyConnection = &mut tx;

    let visitors: Vec<&str> = {
        let set: std::collections::BTreeSet<&str> =
            incoming.iter().map(|i| i.event.visitor_id.as_str()).collect();
        set.into_iter().collect()
    };
    if store.kind() == DbKind::Postgres {
        // One visitor's batches are serialised (sorted, so two batches never wait on each
        // other in a cycle): a batch must see the exposures an earlier batch of the same visitor
        // stored, or attribution would miss events that raced with their exposure.
        for visitor in &visitors {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(visitor_lock_key(project_id, visitor))
                .execute(&mut *conn)
                .await?;
        }
    }

    let received_at = now_ms();
    let mut new_ids = HashSet::new();
    for chunk in incoming.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO events (project_id, event_id, visitor_id, kind, ts, received_at, path, \
             experiment_key, variant, match_key, value, body) VALUES ",
        );
        for row in 0..chunk.len() {
            let base = row * 12;
            if row > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 1..=12 {
                if column > 1 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", base + column));
            }
            sql.push(')');
        }
        sql.push_str(" ON CONFLICT (project_id, event_id) DO NOTHING RETURNING event_id");
        let mut query = sqlx::query(&sql);
        for item in chunk {
            let event = &item.event;
            let (experiment, variant, value) = match &event.payload {
                EventPayload::Exposure { experiment, variant } => {
                    (Some(experiment.clone()), Some(variant.clone()), None)
                }
                EventPayload::Goal { value, .. } => (None, None, *value),
                _ => (None, None, None),
            };
            query = query
                .bind(project_id.to_owned())
                .bind(event.id.clone())
                .bind(event.visitor_id.clone())
                .bind(event.kind().as_str())
                .bind(event.ts)
                .bind(received_at)
                .bind(event.path.clone())
                .bind(experiment)
                .bind(variant)
                .bind(item.match_key.clone())
                .bind(value)
                .bind(item.body.clone());
        }
        for row in query.fetch_all(&mut *conn).await? {
            new_ids.insert(row.get::<String, _>(0));
        }
    }
    let fresh: Vec<&Incoming> =
        incoming.iter().filter(|item| new_ids.contains(&item.event.id)).collect();
    if fresh.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }

    let experiments = live_experiments(&mut *conn, project_id).await?;
    let goals = goal_keys(&mut *conn, project_id).await?;
    let mut deltas = Deltas::default();

    for item in &fresh {
        if let Some(candidate) = &item.candidate {
            let entry = deltas
                .candidates
                .entry(candidate.key.clone())
                .or_insert_with(|| (candidate.clone(), 0, i64::MAX, i64::MIN));
            entry.0.confidence = entry.0.confidence.max(candidate.confidence);
            entry.1 += 1;
            entry.2 = entry.2.min(received_at);
            entry.3 = entry.3.max(received_at);
        }
    }

    let mut attribution =
        Attribution { goals: &goals, deltas: &mut deltas, metric_changes: BTreeMap::new() };
    if !experiments.is_empty() {
        // Exposures that existed before this batch: the batch's other events are attributed
        // through them. New exposures attribute everything stored after them (this batch
        // included) through the look-back below, so no event is counted twice.
        let known = exposures_of(&mut *conn, project_id, &visitors).await?;

        for item in &fresh {
            let EventPayload::Exposure { experiment, variant } = &item.event.payload else {
                continue;
            };
            let Some(live) = experiments.get(experiment.as_str()) else { continue };
            if !live.running || !live.variants.contains(variant) {
                continue;
            }
            let visitor = &item.event.visitor_id;
            let inserted = sqlx::query(
                "INSERT INTO exposures \
                 (experiment_id, visitor_id, project_id, variant, exposed_ts) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING visitor_id",
            )
            .bind(&live.id)
            .bind(visitor)
            .bind(project_id)
            .bind(variant)
            .bind(item.event.ts)
            .fetch_optional(&mut *conn)
            .await?;
            if inserted.is_none() {
                continue;
            }
            *attribution.deltas.visitors.entry((live.id.clone(), variant.clone())).or_default() +=
                1;
            let exposure = Exposure {
                experiment_id: live.id.clone(),
                variant: variant.clone(),
                exposed_ts: item.event.ts,
            };
            for earlier in lookback(&mut *conn, project_id, visitor, item.event.ts).await? {
                attribution.attribute(&mut *conn, &earlier, &exposure).await?;
            }
        }

        for item in &fresh {
            if matches!(item.event.payload, EventPayload::Exposure { .. }) {
                continue;
            }
            let Some(exposures) = known.get(&item.event.visitor_id) else { continue };
            let event = Attributable::of(item);
            if event.match_key.is_none() && event.metric.is_none() {
                continue;
            }
            for exposure in exposures {
                if exposure.exposed_ts <= event.ts {
                    attribution.attribute(&mut *conn, &event, exposure).await?;
                }
            }
        }
    }
    let metric_changes = std::mem::take(&mut attribution.metric_changes);
    apply_metric_changes(&mut *conn, metric_changes, &mut deltas).await?;
    apply_deltas(&mut *conn, project_id, &deltas).await?;
    tx.commit().await?;
    if !deltas.visitors.is_empty() || !deltas.conversions.is_empty() {
        state.note_aggregates_changed(project_id);
    }
    Ok(fresh.len())
}

/// A PostgreSQL advisory-lock key for one visitor of one project.
fn visitor_lock_key(project_id: &str, visitor_id: &str) -> i64 {
    let digest = Sha256::digest(format!("{project_id}\n{visitor_id}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Running and paused experiments of a project, by key.
async fn live_experiments(
    conn: &mut AnyConnection,
    project_id: &str,
) -> Result<HashMap<String, LiveExperiment>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT e.id, e.key, e.status, v.name FROM experiments e \
         JOIN variants v ON v.experiment_id = e.id \
         WHERE e.project_id = $1 AND e.status IN ('running', 'paused')",
    )
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut experiments: HashMap<String, LiveExperiment> = HashMap::new();
    for row in rows {
        let key: String = row.get(1);
        let status: String = row.get(2);
        let entry = experiments.entry(key).or_insert_with(|| LiveExperiment {
            id: row.get(0),
            running: status == "running",
            variants: HashSet::new(),
        });
        entry.variants.insert(row.get(3));
    }
    Ok(experiments)
}

/// The project's confirmed goals: match key -> goal key.
async fn goal_keys(
    conn: &mut AnyConnection,
    project_id: &str,
) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows = sqlx::query("SELECT match_key, key FROM goals WHERE project_id = $1")
        .bind(project_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// The stored first exposures of some visitors to running or paused experiments.
async fn exposures_of(
    conn: &mut AnyConnection,
    project_id: &str,
    visitors: &[&str],
) -> Result<HashMap<String, Vec<Exposure>>, sqlx::Error> {
    let mut found: HashMap<String, Vec<Exposure>> = HashMap::new();
    for chunk in visitors.chunks(INSERT_CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT x.visitor_id, x.experiment_id, x.variant, x.exposed_ts FROM exposures x \
             JOIN experiments e ON e.id = x.experiment_id \
             WHERE x.project_id = $1 AND e.status IN ('running', 'paused') \
             AND x.visitor_id IN ({})",
            placeholders.join(",")
        );
        let mut query = sqlx::query(&sql).bind(project_id);
        for visitor in chunk {
            query = query.bind(*visitor);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.entry(row.get(0)).or_default().push(Exposure {
                experiment_id: row.get(1),
                variant: row.get(2),
                exposed_ts: row.get(3),
            });
        }
    }
    Ok(found)
}

/// A visitor's stored events from `since` on (client time), for a late exposure.
async fn lookback(
    conn: &mut AnyConnection,
    project_id: &str,
    visitor_id: &str,
    since: i64,
) -> Result<Vec<Attributable>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT ts, match_key, value, body FROM events \
         WHERE project_id = $1 AND visitor_id = $2 AND ts >= $3 AND kind <> 'exposure' \
         ORDER BY ts LIMIT $4",
    )
    .bind(project_id)
    .bind(visitor_id)
    .bind(since)
    .bind(LOOKBACK_LIMIT)
    .fetch_all(&mut *conn)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let body: String = row.get(3);
        // The stored body passed validation when it came in; re-reading it gives the payload
        // the metric rules need without a column per metric.
        let metric = serde_json::from_str::<Event>(&body)
            .ok()
            .and_then(|event| metric_change(&event.payload));
        events.push(Attributable {
            visitor_id: visitor_id.to_owned(),
            ts: row.get(0),
            match_key: row.get(1),
            value: row.get(2),
            metric,
        });
    }
    Ok(events)
}

/// Attribution state of one batch.
struct Attribution<'a> {
    goals: &'a HashMap<String, String>,
    deltas: &'a mut Deltas,
    /// Per (experiment, visitor, metric): the variant and the changes, in order.
    metric_changes: BTreeMap<(String, String, &'static str), (String, Vec<MetricChange>)>,
}

impl Attribution<'_> {
    /// Counts one event for one exposure: a conversion when it matches a goal, and its
    /// engagement metric.
    async fn attribute(
        &mut self,
        conn: &mut AnyConnection,
        event: &Attributable,
        exposure: &Exposure,
    ) -> Result<(), sqlx::Error> {
        if let Some(goal_key) = event.match_key.as_ref().and_then(|key| self.goals.get(key)) {
            let inserted = sqlx::query(
                "INSERT INTO conversions (experiment_id, goal_key, visitor_id, variant, \
                 converted_ts, value) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT DO NOTHING RETURNING visitor_id",
            )
            .bind(&exposure.experiment_id)
            .bind(goal_key)
            .bind(&event.visitor_id)
            .bind(&exposure.variant)
            .bind(event.ts)
            .bind(event.value)
            .fetch_optional(&mut *conn)
            .await?;
            if inserted.is_some() {
                let key =
                    (exposure.experiment_id.clone(), exposure.variant.clone(), goal_key.clone());
                let entry = self.deltas.conversions.entry(key).or_default();
                entry.0 += 1;
                entry.1 += event.value.unwrap_or(0.0);
            }
        }
        if let Some((metric, change)) = event.metric {
            let key = (exposure.experiment_id.clone(), event.visitor_id.clone(), metric);
            self.metric_changes
                .entry(key)
                .or_insert_with(|| (exposure.variant.clone(), Vec::new()))
                .1
                .push(change);
        }
        Ok(())
    }
}

/// One visitor's metric changes in one experiment: the variant, and per metric the steps.
type VisitorChanges = (String, Vec<(&'static str, Vec<MetricChange>)>);

/// A visitor's engagement score from their raw metrics, with the stats engine's default
/// weights and caps. Fixed weights keep the stored sums valid as history grows; calibrated
/// weights would change every visitor's score at once.
fn engagement_score(values: &HashMap<String, f64>) -> f64 {
    let value = |metric: &str| values.get(metric).copied().unwrap_or(0.0);
    let features = vibariant_stats::EngagementFeatures {
        scroll_depth: value("scroll_depth") / 100.0,
        time_on_page_secs: value("engaged_seconds"),
        clicks: value("clicks"),
        form_engagement: value("form_starts"),
    };
    vibariant_stats::engagement_score(
        &features,
        &vibariant_stats::ProxyWeights::default(),
        &vibariant_stats::WinsorCaps::default(),
    )
}

/// Applies the batch's metric changes to each visitor's values and turns the differences into
/// per-variant sums (n, sum, sum of squares) of each metric and of the engagement score, which
/// stay exact as values grow.
async fn apply_metric_changes(
    conn: &mut AnyConnection,
    changes: BTreeMap<(String, String, &'static str), (String, Vec<MetricChange>)>,
    deltas: &mut Deltas,
) -> Result<(), sqlx::Error> {
    // Group by (experiment, visitor): the score needs all of a visitor's metrics.
    let mut by_visitor: BTreeMap<(String, String), VisitorChanges> = BTreeMap::new();
    for ((experiment_id, visitor_id, metric), (variant, steps)) in changes {
        by_visitor
            .entry((experiment_id, visitor_id))
            .or_insert_with(|| (variant, Vec::new()))
            .1
            .push((metric, steps));
    }
    for ((experiment_id, visitor_id), (variant, metrics)) in by_visitor {
        let mut values: HashMap<String, f64> = sqlx::query(
            "SELECT metric, value FROM visitor_engagement \
             WHERE experiment_id = $1 AND visitor_id = $2",
        )
        .bind(&experiment_id)
        .bind(&visitor_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
        let had_score = !values.is_empty();
        let score_before = engagement_score(&values);

        for (metric, steps) in metrics {
            let old = values.get(metric).copied();
            let before = old.unwrap_or(0.0);
            let mut value = before;
            for step in steps {
                value = match step {
                    MetricChange::Add(amount) => value + amount,
                    MetricChange::Max(candidate) => value.max(candidate),
                };
            }
            if old.is_some() && value == before {
                continue;
            }
            sqlx::query(
                "INSERT INTO visitor_engagement (experiment_id, visitor_id, metric, value) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (experiment_id, visitor_id, metric) \
                 DO UPDATE SET value = excluded.value",
            )
            .bind(&experiment_id)
            .bind(&visitor_id)
            .bind(metric)
            .bind(value)
            .execute(&mut *conn)
            .await?;
            values.insert(metric.to_owned(), value);
            let key = (experiment_id.clone(), variant.clone(), metric.to_owned());
            let entry = deltas.metrics.entry(key).or_default();
            entry.0 += i64::from(old.is_none());
            entry.1 += value - before;
            entry.2 += value * value - before * before;
        }

        let score_after = engagement_score(&values);
        if had_score && score_after == score_before {
            continue;
        }
        let key = (experiment_id, variant, ENGAGEMENT_SCORE.to_owned());
        let entry = deltas.metrics.entry(key).or_default();
        entry.0 += i64::from(!had_score);
        entry.1 += score_after - score_before;
        entry.2 += score_after * score_after - score_before * score_before;
    }
    Ok(())
}

/// Writes the batch's aggregate changes.
async fn apply_deltas(
    conn: &mut AnyConnection,
    project_id: &str,
    deltas: &Deltas,
) -> Result<(), sqlx::Error> {
    for ((experiment_id, variant), count) in &deltas.visitors {
        sqlx::query(
            "INSERT INTO variant_stats (experiment_id, variant, visitors) VALUES ($1, $2, $3) \
             ON CONFLICT (experiment_id, variant) \
             DO UPDATE SET visitors = variant_stats.visitors + excluded.visitors",
        )
        .bind(experiment_id)
        .bind(variant)
        .bind(*count)
        .execute(&mut *conn)
        .await?;
    }
    for ((experiment_id, variant, goal_key), (count, value)) in &deltas.conversions {
        sqlx::query(
            "INSERT INTO goal_stats (experiment_id, variant, goal_key, conversions, value_sum) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (experiment_id, variant, goal_key) \
             DO UPDATE SET conversions = goal_stats.conversions + excluded.conversions, \
             value_sum = goal_stats.value_sum + excluded.value_sum",
        )
        .bind(experiment_id)
        .bind(variant)
        .bind(goal_key)
        .bind(*count)
        .bind(*value)
        .execute(&mut *conn)
        .await?;
    }
    for ((experiment_id, variant, metric), (n, sum, sum_sq)) in &deltas.metrics {
        sqlx::query(
            "INSERT INTO metric_stats (experiment_id, variant, metric, n, value_sum, \
             value_sum_sq) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (experiment_id, variant, metric) DO UPDATE SET \
             n = metric_stats.n + excluded.n, \
             value_sum = metric_stats.value_sum + excluded.value_sum, \
             value_sum_sq = metric_stats.value_sum_sq + excluded.value_sum_sq",
        )
        .bind(experiment_id)
        .bind(variant)
        .bind(metric)
        .bind(*n)
        .bind(*sum)
        .bind(*sum_sq)
        .execute(&mut *conn)
        .await?;
    }
    for (key, (candidate, count, first_seen, last_seen)) in &deltas.candidates {
        sqlx::query(
            "INSERT INTO goal_candidates (project_id, candidate_key, category, event_kind, \
             label, confidence, occurrences, first_seen, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (project_id, candidate_key) DO UPDATE SET \
             occurrences = goal_candidates.occurrences + excluded.occurrences, \
             confidence = CASE WHEN excluded.confidence > goal_candidates.confidence \
                 THEN excluded.confidence ELSE goal_candidates.confidence END, \
             last_seen = excluded.last_seen",
        )
        .bind(project_id)
        .bind(key)
        .bind(candidate.category)
        .bind(candidate.event_kind)
        .bind(&candidate.label)
        .bind(candidate.confidence)
        .bind(*count)
        .bind(*first_seen)
        .bind(*last_seen)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_good_events_and_names_the_bad_ones() {
        let body = br#"{"events": [
            {"id": "AAAAAAAAAAAAAAAAAAAAAA", "visitor_id": "v", "ts": 1, "path": "/",
             "kind": "pageview"},
            {"id": "AAAAAAAAAAAAAAAAAAAAAA", "visitor_id": "v", "ts": 1, "path": "/",
             "kind": "pageview"},
            {"id": "bad", "visitor_id": "v", "ts": 1, "path": "/", "kind": "pageview"},
            {"id": "AAAAAAAAAAAAAAAAAAAAAQ", "visitor_id": "v", "ts": "x", "path": "/",
             "kind": "pageview"},
            {"id": "AAAAAAAAAAAAAAAAAAAAAg", "visitor_id": "v", "ts": 1, "path": "/",
             "kind": "teleport"}
        ]}"#;
        let (incoming, report) = parse_batch(body).unwrap();
        assert_eq!(incoming.len(), 1);
        assert_eq!(report.duplicates, 1);
        let indexes: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [2, 3, 4]);
        assert_eq!(report.rejected[0].id.as_deref(), Some("bad"));
    }

    #[test]
    fn a_body_without_an_events_array_is_a_bad_request() {
        assert!(matches!(parse_batch(b"[]"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_batch(b"{\"events\": 3}"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_batch(b"{"), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn a_signup_button_becomes_a_candidate_with_a_stable_key() {
        let element = ElementDescription {
            tag: "button".into(),
            text: Some("Start   free trial".into()),
            ..ElementDescription::default()
        };
        let first = candidate_for(&element, "click").expect("a trial button is a candidate");
        let again = candidate_for(
            &ElementDescription { text: Some("start free trial".into()), ..element.clone() },
            "click",
        )
        .unwrap();
        assert_eq!(first.key, again.key);
        assert_eq!(first.label, "Start free trial");
        assert!(first.key.starts_with(first.category));
    }
}
