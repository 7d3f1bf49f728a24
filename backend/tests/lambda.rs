//! The real `vibariant-server` binary as a Lambda function, driven over the Lambda Runtime API.
//!
//! The test is the other side of the protocol: a small HTTP server on loopback that answers
//! `GET /2018-06-01/runtime/invocation/next` with API Gateway v2 (HTTP API) events and the
//! headers the runtime sends (`Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//! `Lambda-Runtime-Invoked-Function-Arn`), and collects what the function posts to
//! `/invocation/{id}/response` or `/invocation/{id}/error`. The binary runs as a child process
//! with `AWS_LAMBDA_RUNTIME_API` pointing at it, as it would in the Lambda execution
//! environment; invocations are fed one at a time, as Lambda does.

#![cfg(feature = "lambda")]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{Backend, TestDb, event};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};
use vibariant_backend::Store;
use vibariant_backend::first_run::create_project;

/// The longest the test waits for the function to answer one invocation.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:vibariant";

/// One invocation handed to the function.
#[derive(Debug)]
struct Invocation {
    request_id: String,
    event: Value,
}

/// What the function reported for an invocation.
#[derive(Debug)]
enum Outcome {
    /// `POST /invocation/{id}/response`.
    Response { request_id: String, body: Value },
    /// `POST /invocation/{id}/error` or `/init/error`.
    Error { request_id: String, body: String },
}

/// The Runtime API side: pending invocations in, outcomes out.
#[derive(Clone)]
struct RuntimeApi {
    pending: Arc<Mutex<mpsc::Receiver<Invocation>>>,
    outcomes: mpsc::Sender<Outcome>,
}

async fn next_invocation(State(api): State<RuntimeApi>) -> Response {
    // Long poll, as the real Runtime API does: the function waits here between invocations.
    let Some(invocation) = api.pending.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + INVOCATION_TIMEOUT;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", invocation.request_id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline.as_millis().to_string().parse().unwrap());
    headers.insert("lambda-runtime-invoked-function-arn", FUNCTION_ARN.parse().unwrap());
    headers.insert("lambda-runtime-trace-id", "Root=1-5f84c7a1-1234567890abcdef".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    (headers, invocation.event.to_string()).into_response()
}

async fn invocation_response(
    State(api): State<RuntimeApi>,
    Path(request_id): Path<String>,
    body: String,
) -> StatusCode {
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = api.outcomes.send(Outcome::Response { request_id, body }).await;
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(api): State<RuntimeApi>,
    Path(request_id): Path<String>,
    body: String,
) -> StatusCode {
    let _ = api.outcomes.send(Outcome::Error { request_id, body }).await;
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: String) -> StatusCode {
    let _ = api.outcomes.send(Outcome::Error { request_id: "init".into(), body }).await;
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (payload format 2.0) event for one request.
fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Value {
    let headers: serde_json::Map<String, Value> =
        headers.iter().map(|(name, value)| ((*name).to_owned(), json!(value))).collect();
    let query_parameters: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), json!(value)))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": query_parameters,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "vibariant",
            "domainName": "vibariant.lambda-url.us-east-1.on.aws",
            "domainPrefix": "vibariant",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1",
                      "sourceIp": "192.0.2.10", "userAgent": "lambda-test" },
            "requestId": "gateway-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1_796_299_200_000_i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The function process; killed when the test ends, whatever its outcome.
struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Feeds invocations to the function and reads its answers.
struct Harness {
    invocations: mpsc::Sender<Invocation>,
    outcomes: mpsc::Receiver<Outcome>,
    count: usize,
}

/// The HTTP answer of one invocation: status, headers and the body as JSON.
struct Answer {
    status: u16,
    headers: Value,
    json: Value,
}

impl Harness {
    async fn invoke(&mut self, event: Value) -> Answer {
        self.count += 1;
        let request_id = format!("invocation-{}", self.count);
        self.invocations
            .send(Invocation { request_id: request_id.clone(), event })
            .await
            .expect("the runtime API is up");
        let outcome = tokio::time::timeout(INVOCATION_TIMEOUT, self.outcomes.recv())
            .await
            .expect("the function answers in time")
            .expect("the runtime API is up");
        let body = match outcome {
            Outcome::Response { request_id: answered, body } => {
                assert_eq!(answered, request_id, "the answer names its invocation");
                body
            }
            Outcome::Error { request_id, body } => {
                panic!("the function reported an error for {request_id}: {body}")
            }
        };
        assert_eq!(body["isBase64Encoded"], false, "a JSON answer is sent as text: {body}");
        let text = body["body"].as_str().unwrap_or_default();
        Answer {
            status: u16::try_from(body["statusCode"].as_u64().expect("a status code")).unwrap(),
            headers: body["headers"].clone(),
            json: serde_json::from_str(text).unwrap_or(Value::Null),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_binary_answers_lambda_invocations_through_the_runtime_api() {
    let db = TestDb::create(Backend::Sqlite).await.expect("a SQLite database");
    let project = {
        let store = Store::connect(&db.url).await.expect("open the database");
        let project = create_project(&store, "lambda").await.expect("create a project");
        store.close().await;
        project
    };

    let (invocations, pending) = mpsc::channel(1);
    let (outcomes_tx, outcomes) = mpsc::channel(4);
    let api = RuntimeApi { pending: Arc::new(Mutex::new(pending)), outcomes: outcomes_tx };
    let runtime_api = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(invocation_response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let runtime_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, runtime_api).await });

    let _function = Function(
        Command::new(env!("CARGO_BIN_EXE_vibariant-server"))
            .env("AWS_LAMBDA_RUNTIME_API", runtime_addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "vibariant")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/03/[$LATEST]test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/vibariant")
            .env("DATABASE_URL", &db.url)
            // A Lambda function listens on nothing: an address in use must not matter.
            .env("VIBARIANT_ADDR", "127.0.0.1:1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start vibariant-server"),
    );
    let mut harness = Harness { invocations, outcomes, count: 0 };

    let health = harness.invoke(http_event("GET", "/healthz", "", &[], "")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["status"], "ok");

    let admin = format!("Bearer {}", project.api_key);
    let json_type = ("content-type", "application/json");
    let experiment = json!({ "key": "hero-cta", "primary_goal": "signup",
                             "variants": [{ "name": "control" }, { "name": "bold" }] });
    let created = harness
        .invoke(http_event(
            "POST",
            "/v1/experiments",
            "",
            &[("authorization", &admin), json_type],
            &experiment.to_string(),
        ))
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let id = created.json["id"].as_str().expect("an experiment id").to_owned();
    let start_path = format!("/v1/experiments/{id}/start");
    let started =
        harness.invoke(http_event("POST", &start_path, "", &[("authorization", &admin)], "")).await;
    assert_eq!(started.status, 200, "{}", started.json);

    // A beacon: the token in the query string and a text/plain body.
    let batch = json!({ "events": [
        event(1, "visitor-1", 1_000, "exposure", json!({ "experiment": "hero-cta",
                                                          "variant": "bold" })),
        event(2, "visitor-1", 2_000, "goal", json!({ "goal": "signup" })),
        event(3, "visitor-1", 2_000, "teleport", json!({})),
    ] });
    let query = format!("token={}", project.project_token);
    let ingested = harness
        .invoke(http_event(
            "POST",
            "/v1/events",
            &query,
            &[("content-type", "text/plain;charset=UTF-8"), ("origin", "https://example.com")],
            &batch.to_string(),
        ))
        .await;
    assert_eq!(ingested.status, 200, "{}", ingested.json);
    assert_eq!(ingested.json["accepted"], 2);
    assert_eq!(ingested.json["rejected"][0]["index"], 2);
    assert_eq!(ingested.headers["access-control-allow-origin"], "*");

    let token = format!("Bearer {}", project.project_token);
    let config =
        harness.invoke(http_event("GET", "/v1/config", "", &[("authorization", &token)], "")).await;
    assert_eq!(config.status, 200, "{}", config.json);
    assert_eq!(config.json["experiments"][0]["key"], "hero-cta");
    assert_eq!(config.json["experiments"][0]["variants"][1]["name"], "bold");
    let etag = config.headers["etag"].as_str().expect("an ETag").to_owned();
    let revalidated = harness
        .invoke(http_event(
            "GET",
            "/v1/config",
            "",
            &[("authorization", &token), ("if-none-match", &etag)],
            "",
        ))
        .await;
    assert_eq!(revalidated.status, 304);

    // Errors are HTTP answers of a successful invocation, not function errors.
    let missing = harness.invoke(http_event("GET", "/v1/nothing", "", &[], "")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["error"]["code"], "not_found");

    // The batch reached the database and its aggregates, as through the server.
    let results_path = format!("/v1/experiments/{id}/results");
    let results = harness
        .invoke(http_event("GET", &results_path, "", &[("authorization", &admin)], ""))
        .await;
    assert_eq!(results.status, 200, "{}", results.json);
    let store = Store::connect(&db.url).await.expect("reopen the database");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .expect("count events");
    assert_eq!(stored, 2);
    let converted: i64 = sqlx::query_scalar(
        "SELECT conversions FROM goal_stats WHERE variant = 'bold' AND goal_key = 'signup'",
    )
    .fetch_one(store.pool())
    .await
    .expect("the bold variant's conversions");
    assert_eq!(converted, 1);
    store.close().await;
}
