//! Hostile input, on both databases: malformed JSON, huge bodies, deep nesting, wrong types,
//! unicode edge cases, SQL-looking strings, and the credentials of other projects.
//!
//! The rule every case checks: the answer is a 4xx with a JSON error body (or a 200 that lists
//! the refused events next to the kept ones), never a 5xx, and never another project's data.

mod common;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use common::{Reply, TestServer, event};
use serde_json::{Value, json};
use vibariant_backend::first_run::create_project;

/// Asserts a refusal: a 4xx whose body is `{"error": {"code", "message"}}`.
fn assert_refused(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_client_error(),
        "{what}: expected a 4xx, got {}: {}",
        reply.status,
        reply.text
    );
    assert!(reply.json["error"]["code"].is_string(), "{what}: not a JSON error: {}", reply.text);
    assert!(reply.json["error"]["message"].is_string(), "{what}: no message: {}", reply.text);
}

/// Sends raw bytes to the ingestion route with the project token.
async fn post_raw(server: &TestServer, content_type: &str, body: impl Into<Body>) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/events")
        .header("authorization", format!("Bearer {}", server.project.project_token))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap();
    server.send(request).await
}

/// A pageview that passes every rule.
fn valid(n: u64) -> Value {
    event(n, &format!("visitor-{n}"), 1_796_000_000_000, "pageview", json!({}))
}

async fn stored_events(server: &TestServer) -> i64 {
    server
        .scalar("SELECT COUNT(*) FROM events WHERE project_id = $1", &[&server.project.project_id])
        .await
}

async fn malformed_bodies_are_bad_requests(server: TestServer) {
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated JSON", br#"{"events": [{"id": "#.to_vec()),
        ("not JSON", b"events=1&kind=pageview".to_vec()),
        ("empty body", Vec::new()),
        ("invalid UTF-8", b"{\"events\": [\"\xff\xfe\"]}".to_vec()),
        ("a NUL byte outside strings", b"{\"events\": []\x00}".to_vec()),
        ("a byte-order mark", b"\xef\xbb\xbf{\"events\": []}".to_vec()),
        ("trailing garbage", br#"{"events": []} {"events": []}"#.to_vec()),
        ("an array", b"[]".to_vec()),
        ("null", b"null".to_vec()),
        ("a string", br#""events""#.to_vec()),
        ("events as an object", br#"{"events": {"0": {}}}"#.to_vec()),
        ("events as null", br#"{"events": null}"#.to_vec()),
        ("no events", br#"{"evnets": []}"#.to_vec()),
        ("a lone surrogate", br#"{"events": [{"visitor_id": "\ud800"}]}"#.to_vec()),
        ("a reversed surrogate pair", br#"{"events": [{"path": "\udc00\ud800"}]}"#.to_vec()),
        ("a bad escape", br#"{"events": [{"path": "\x41"}]}"#.to_vec()),
        ("a number too large", br#"{"events": [{"ts": 1e999999}]}"#.to_vec()),
    ];
    for (what, body) in bodies {
        let reply = post_raw(&server, "application/json", body.clone()).await;
        assert_refused(&reply, what);
        let beacon = post_raw(&server, "text/plain;charset=UTF-8", body).await;
        assert_refused(&beacon, what);
    }
    assert_eq!(stored_events(&server).await, 0);
}

async fn huge_bodies_are_refused_before_they_are_read(server: TestServer) {
    // Just over the limit, and far over it, in process and over a real socket.
    let just_over = format!(r#"{{"events": [], "pad": "{}"}}"#, "x".repeat(70 * 1024));
    let reply = post_raw(&server, "application/json", just_over).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_refused(&reply, "a body over 64 KB");

    let (addr, _stop) = server.listen().await;
    let http = reqwest::Client::new();
    let huge = vec![b' '; 16 * 1024 * 1024];
    let reply = http
        .post(format!("http://{addr}/v1/events"))
        .bearer_auth(&server.project.project_token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    // The server may answer 413 and close before the client finishes sending; either way it
    // must not have taken the body.
    if let Ok(reply) = reply {
        assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = reply.json().await.expect("a JSON error");
        assert_eq!(body["error"]["code"], "payload_too_large");
    }

    // The admin routes have their own, larger limit.
    let big_experiment = json!({ "key": "big", "description": "d".repeat(1024 * 1024),
                                 "variants": [{ "name": "a" }, { "name": "b" }] });
    let reply = server.admin(Method::POST, "/v1/experiments", Some(big_experiment)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_refused(&reply, "a 1 MB experiment");

    let too_many: Vec<Value> = (0..1_001).map(|n| json!({ "id": n })).collect();
    let reply =
        post_raw(&server, "application/json", json!({ "events": too_many }).to_string()).await;
    assert_refused(&reply, "1 001 events");
    assert_eq!(stored_events(&server).await, 0);
}

async fn deep_nesting_is_refused(server: TestServer) {
    // Deeper than the JSON parser's recursion limit, still under the body limit.
    let depth = 20_000;
    let nested = format!(r#"{{"events": {}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert!(nested.len() < 64_000);
    assert_refused(&post_raw(&server, "application/json", nested).await, "nested arrays");
    let objects = format!(r#"{{"events": [{}{}]}}"#, r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    assert!(objects.len() < 64_000);
    assert_refused(&post_raw(&server, "application/json", objects).await, "nested objects");

    // Nesting the parser accepts, inside an event whose props must be flat: that event is
    // refused, its neighbour kept.
    let mut props = json!("leaf");
    for _ in 0..100 {
        props = json!({ "a": props });
    }
    let nested_props = event(
        2,
        "visitor-2",
        1_796_000_000_000,
        "custom",
        json!({ "name": "deep", "props": { "p": props } }),
    );
    let reply = server.post_events(vec![valid(1), nested_props]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], 1);
    assert_eq!(reply.json["rejected"][0]["index"], 1);

    // And on an admin route.
    let nested =
        format!(r#"{{"key": "n", "variants": {}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/experiments")
        .header("authorization", format!("Bearer {}", server.project.api_key))
        .header("content-type", "application/json")
        .body(Body::from(nested))
        .unwrap();
    assert_refused(&server.send(request).await, "nested experiment");
}

async fn wrong_types_are_listed_and_the_valid_events_kept(server: TestServer) {
    let at = 1_796_000_000_000_i64;
    let bad = vec![
        json!(1),
        json!("an event"),
        json!(null),
        json!([]),
        json!({}),
        event(10, "v", at, "pageview", json!({ "ts": "yesterday" })),
        event(11, "v", at, "pageview", json!({ "ts": 1.5 })),
        event(12, "v", at, "pageview", json!({ "ts": 1e30 })),
        event(13, "v", at, "pageview", json!({ "ts": -5 })),
        event(14, "v", at, "pageview", json!({ "ts": 0 })),
        event(15, "v", at, "pageview", json!({ "visitor_id": 42 })),
        event(16, "v", at, "pageview", json!({ "visitor_id": "" })),
        event(17, "v", at, "pageview", json!({ "visitor_id": "x".repeat(129) })),
        event(18, "v", at, "pageview", json!({ "id": ["a"] })),
        event(19, "v", at, "pageview", json!({ "id": "short" })),
        event(20, "v", at, "pageview", json!({ "kind": 7 })),
        event(21, "v", at, "pageview", json!({ "kind": "teleport" })),
        event(22, "v", at, "pageview", json!({ "path": {} })),
        event(23, "v", at, "pageview", json!({ "path": "/".repeat(3_000) })),
        event(24, "v", at, "scroll", json!({ "depth": 101 })),
        event(25, "v", at, "scroll", json!({ "depth": -1 })),
        event(26, "v", at, "engagement", json!({ "ms": "long" })),
        event(27, "v", at, "goal", json!({ "goal": "" })),
        event(28, "v", at, "goal", json!({ "goal": "signup", "value": "ten" })),
        event(29, "v", at, "exposure", json!({ "experiment": "x" })),
        event(30, "v", at, "click", json!({ "element": "button" })),
        event(31, "v", at, "custom", json!({ "name": "x", "props": { "list": [1, 2] } })),
        event(32, "v", at, "custom", json!({ "name": "n".repeat(129) })),
        event(33, "v", at, "identify", json!({ "user_id": 5 })),
    ];
    let reply = server.post_events(bad.clone()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_refused(&reply, "a batch of only bad events");
    let refused = reply.json["rejected"].as_array().expect("the refused events");
    assert_eq!(refused.len(), bad.len());
    for (index, rejection) in refused.iter().enumerate() {
        assert_eq!(rejection["index"], index);
        assert!(rejection["reason"].as_str().is_some_and(|reason| !reason.is_empty()));
    }

    // The same bad events around valid ones: the valid ones are kept, the rest listed.
    let mut mixed = vec![valid(1)];
    mixed.extend(bad.iter().cloned());
    mixed.push(valid(2));
    let reply = server.post_events(mixed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], 2);
    assert_eq!(reply.json["rejected"].as_array().unwrap().len(), bad.len());
    assert_eq!(stored_events(&server).await, 2);

    // Wrong types on an admin route are a 422 that says what is wrong.
    for body in [
        json!({ "key": ["hero"], "variants": [] }),
        json!({ "key": "hero", "variants": "control,bold" }),
        json!({ "key": "hero", "variants": [{ "name": 1 }, { "name": 2 }] }),
        json!({ "key": "hero", "variants": [{ "name": "a", "weight": "heavy" }, { "name": "b" }] }),
        json!({ "key": "hero", "variants": [{ "name": "a" }, { "name": "b" }],
                "coverage": "all" }),
        json!({ "key": "hero", "variants": [{ "name": "a" }, { "name": "b" }],
                "allocation": "greedy" }),
    ] {
        let reply = server.admin(Method::POST, "/v1/experiments", Some(body.clone())).await;
        assert_refused(&reply, &body.to_string());
    }
}

async fn unicode_edge_cases_are_stored_verbatim_or_refused(server: TestServer) {
    let at = 1_796_000_000_000_i64;
    // Valid UTF-8 that is hard on storage and display: RTL override, zero-width joiners,
    // combining marks, 4-byte characters, a surrogate pair written as escapes.
    let visitors = [
        "\u{202e}evil\u{202c}",
        "👩\u{200d}👩\u{200d}👧",
        "e\u{301}\u{301}\u{301}",
        "𝕍𝕚𝕓𝕒𝕣𝕚𝕒𝕟𝕥",
        "\u{10ffff}\u{fffd}\u{feff}",
    ];
    let mut events: Vec<Value> = visitors
        .iter()
        .enumerate()
        .map(|(n, visitor)| {
            event(100 + n as u64, visitor, at, "pageview", json!({ "path": format!("/{visitor}") }))
        })
        .collect();
    let escaped_pair = r#"{"id": "AAAAAAAAAAAAAAAAAAAAZw", "visitor_id": "\ud83d\ude00",
        "ts": 1796000000000, "path": "/", "kind": "pageview"}"#;
    events.push(serde_json::from_str(escaped_pair).unwrap());
    let reply = server.post_events(events).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], visitors.len() + 1, "{}", reply.text);
    for visitor in visitors.iter().chain(&["😀"]) {
        let stored =
            server.scalar("SELECT COUNT(*) FROM events WHERE visitor_id = $1", &[visitor]).await;
        assert_eq!(stored, 1, "{visitor:?} round-trips through the database");
    }

    // Unicode on admin routes: a key outside its alphabet is a 422, a name is kept as sent.
    let bad_key = json!({ "key": "hero\u{0}", "variants": [{ "name": "a" }, { "name": "b" }] });
    assert_refused(&server.admin(Method::POST, "/v1/experiments", Some(bad_key)).await, "NUL key");
    let named = json!({ "key": "rtl", "name": "\u{202e}tset 👩\u{200d}👩",
                        "variants": [{ "name": "a" }, { "name": "b" }] });
    let reply = server.admin(Method::POST, "/v1/experiments", Some(named)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json["name"], "\u{202e}tset 👩\u{200d}👩");
}

async fn nul_characters_never_fail_a_batch(server: TestServer) {
    let at = 1_796_000_000_000_i64;
    // NUL and other control characters: refused event by event, never a failure of the whole
    // batch.
    let nul = "a\u{0}b";
    let with_nul = vec![
        valid(1),
        event(201, nul, at, "pageview", json!({})),
        event(202, "v", at, "pageview", json!({ "path": nul })),
        event(203, "v", at, "goal", json!({ "goal": nul })),
        event(204, "v", at, "custom", json!({ "name": nul, "props": { nul: nul } })),
        event(205, "v", at, "exposure", json!({ "experiment": nul, "variant": nul })),
        event(206, "v", at, "pageview", json!({ "title": nul, "referrer": nul })),
        event(207, "v", at, "click", json!({ "element": { "tag": nul, "text": nul } })),
        event(208, "v\u{1b}[31m", at, "pageview", json!({})),
        valid(2),
    ];
    let reply = server.post_events(with_nul).await;
    let nul_id = server.admin(Method::GET, "/v1/experiments/%00", None).await;
    let nul_name =
        json!({ "key": "nul", "name": nul, "variants": [{ "name": "a" }, { "name": "b" }] });
    let nul_name = server.admin(Method::POST, "/v1/experiments", Some(nul_name)).await;
    assert_refused(&nul_name, "a NUL in an experiment's name");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let refused: Vec<u64> = reply.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rejection| rejection["index"].as_u64().unwrap())
        .collect();
    // A NUL anywhere is refused on both databases alike (PostgreSQL's text cannot hold one),
    // as is any control character in a visitor id; the valid events around them are kept.
    assert_eq!(refused, (1..=8).collect::<Vec<u64>>(), "{}", reply.text);
    let kept = reply.json["accepted"].as_u64().unwrap();
    assert_eq!(kept + refused.len() as u64, 10);
    let candidates = server.admin(Method::GET, "/v1/goal-candidates", None).await;
    assert_eq!(candidates.status, StatusCode::OK, "{}", candidates.text);
    assert_refused(&nul_id, "a NUL experiment id");
}

async fn sql_looking_strings_are_data(server: TestServer) {
    let at = 1_796_000_000_000_i64;
    let hostile = [
        "'; DROP TABLE events; --",
        "\" OR 1=1 --",
        "x'); DELETE FROM projects WHERE ('1'='1",
        "$1",
        "%' OR visitor_id LIKE '%",
    ];
    let events: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(n, text)| {
            event(
                300 + n as u64,
                text,
                at,
                "custom",
                json!({ "name": text, "path": text, "props": { "q": text } }),
            )
        })
        .collect();
    let reply = server.post_events(events).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], hostile.len());
    for text in hostile {
        let stored = server
            .scalar("SELECT COUNT(*) FROM events WHERE visitor_id = $1 AND path = $1", &[text])
            .await;
        assert_eq!(stored, 1, "{text:?} is stored as written");
    }
    assert_eq!(server.scalar("SELECT COUNT(*) FROM projects", &[]).await, 1);

    // In paths and query strings of admin routes.
    for path in [
        "/v1/experiments/'%20OR%20'1'='1",
        "/v1/experiments/1%3B%20DROP%20TABLE%20experiments",
        "/v1/goals/%27--",
    ] {
        let reply = server.admin(Method::GET, path, None).await;
        assert_refused(&reply, path);
    }
    let custom = json!({ "custom_event": "'; DROP TABLE goals; --" });
    let reply = server.admin(Method::POST, "/v1/goals", Some(custom)).await;
    assert!(!reply.status.is_server_error(), "{}", reply.text);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM events", &[]).await, hostile.len() as i64);
}

async fn bad_credentials_are_refused(server: TestServer) {
    let body = json!({ "events": [valid(1)] }).to_string();
    let mut credentials: Vec<(String, HeaderValue)> = [
        "Bearer vv_proj_' OR '1'='1",
        "Bearer vv_proj_",
        "Bearer vv_sk_nope",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "vv_proj_missing_scheme",
    ]
    .iter()
    .map(|value| (value.to_string(), HeaderValue::from_str(value).unwrap()))
    .collect();
    credentials.push((
        "long".into(),
        HeaderValue::from_str(&format!("Bearer vv_proj_{}", "a".repeat(10_000))).unwrap(),
    ));
    credentials
        .push(("non-ASCII".into(), HeaderValue::from_bytes(b"Bearer vv_proj_\xff").unwrap()));
    for (what, value) in credentials {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/events")
            .header("authorization", value)
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let reply = server.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}: {}", reply.text);
        assert_refused(&reply, &what);
    }
    for query in ["?token=vv_proj_'%20OR%201=1", "?token=", "?token=%00", "?token[]=x"] {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/events{query}"))
            .header("content-type", "text/plain")
            .body(Body::from(body.clone()))
            .unwrap();
        assert_refused(&server.send(request).await, query);
    }
    // An API key travels only in the header: in a URL it would end up in access logs.
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/events?token={}", server.project.api_key))
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(server.send(request).await.status, StatusCode::UNAUTHORIZED);
    // The public token cannot manage anything.
    let token = server.project.project_token.clone();
    for (method, path) in [
        (Method::GET, "/v1/experiments"),
        (Method::GET, "/v1/project"),
        (Method::GET, "/v1/project/api-keys"),
        (Method::POST, "/v1/project/tokens"),
        (Method::GET, "/v1/goal-candidates"),
    ] {
        let reply = server.call(method.clone(), path, Some(&token), None).await;
        assert!(
            matches!(reply.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            "{method} {path} with the public token: {}",
            reply.status
        );
        assert_refused(&reply, path);
    }
    let reply = post_raw(&server, "application/x-www-form-urlencoded", body).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_refused(&reply, "a form body");
    assert_eq!(stored_events(&server).await, 0);
}

async fn another_projects_credentials_reach_nothing_here(server: TestServer) {
    // Project A (the test's) has an experiment, a goal, events; B is a stranger.
    let experiment = json!({ "key": "secret-launch", "name": "Secret launch",
        "primary_goal": "secret-goal", "variants": [{ "name": "control" }, { "name": "bold" }] });
    let a_experiment = server.running_experiment(experiment).await;
    let exposure = event(
        1,
        "visitor-a",
        1_796_000_000_000,
        "exposure",
        json!({ "experiment": "secret-launch", "variant": "bold" }),
    );
    assert_eq!(server.post_events(vec![exposure]).await.status, StatusCode::OK);
    let tokens = server.admin(Method::GET, "/v1/project/tokens", None).await;
    let a_token_id = tokens.json["tokens"][0]["id"].as_str().expect("a token id").to_owned();
    let b = create_project(server.state.store(), "stranger").await.expect("project B");

    let leaks = |reply: &Reply| {
        reply.text.contains("secret-launch")
            || reply.text.contains("Secret launch")
            || reply.text.contains("secret-goal")
            || reply.text.contains(&server.project.project_id)
    };
    let experiment_path = format!("/v1/experiments/{a_experiment}");
    for (method, path, body) in [
        (Method::GET, experiment_path.clone(), None),
        (Method::PATCH, experiment_path.clone(), Some(json!({ "name": "mine now" }))),
        (Method::DELETE, experiment_path.clone(), None),
        (Method::GET, format!("{experiment_path}/results"), None),
        (Method::POST, format!("{experiment_path}/pause"), None),
        (
            Method::POST,
            format!("{experiment_path}/complete"),
            Some(json!({ "shipped_variant": "bold" })),
        ),
        (Method::DELETE, format!("/v1/project/tokens/{a_token_id}"), None),
        (Method::DELETE, "/v1/goals/secret-goal".to_owned(), None),
    ] {
        let reply = server.call(method.clone(), &path, Some(&b.api_key), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "B: {method} {path}: {}", reply.text);
        assert_refused(&reply, &path);
        assert!(!leaks(&reply), "B: {method} {path} leaked: {}", reply.text);
    }
    for path in [
        "/v1/experiments",
        "/v1/goals",
        "/v1/goal-candidates",
        "/v1/project",
        "/v1/project/tokens",
        "/v1/project/api-keys",
    ] {
        let reply = server.call(Method::GET, path, Some(&b.api_key), None).await;
        assert_eq!(reply.status, StatusCode::OK, "B: {path}: {}", reply.text);
        assert!(!leaks(&reply), "B: GET {path} leaked: {}", reply.text);
    }
    for (method, path) in [(Method::GET, "/v1/config"), (Method::POST, "/v1/assign")] {
        let body = (method == Method::POST).then(|| json!({ "visitor_id": "visitor-a" }));
        let reply = server.call(method.clone(), path, Some(&b.project_token), body).await;
        assert_eq!(reply.status, StatusCode::OK, "B token: {path}: {}", reply.text);
        assert!(!leaks(&reply), "B token: {path} leaked: {}", reply.text);
    }
    // B's token writes into B only, even with A's experiment key and visitor.
    let spoof = event(
        2,
        "visitor-a",
        1_796_000_000_001,
        "exposure",
        json!({ "experiment": "secret-launch", "variant": "control" }),
    );
    let token = b.project_token.clone();
    let reply = server
        .call(Method::POST, "/v1/events", Some(&token), Some(json!({ "events": [spoof] })))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        server.scalar("SELECT COUNT(*) FROM events WHERE project_id = $1", &[&b.project_id]).await,
        1
    );
    assert_eq!(
        server
            .scalar("SELECT COUNT(*) FROM exposures WHERE experiment_id = $1", &[&a_experiment])
            .await,
        1
    );
    // A's experiment is untouched by all of the above.
    let reply = server.admin(Method::GET, &experiment_path, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["status"], "running");
    assert_eq!(reply.json["name"], "Secret launch");
    // A revoked token stops working at once.
    let revoked =
        server.admin(Method::DELETE, &format!("/v1/project/tokens/{a_token_id}"), None).await;
    assert!(revoked.status.is_success(), "{}", revoked.text);
    let reply = server.post_events(vec![valid(3)]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_refused(&reply, "a revoked token");
}

both_databases!(
    malformed_bodies_are_bad_requests,
    huge_bodies_are_refused_before_they_are_read,
    deep_nesting_is_refused,
    wrong_types_are_listed_and_the_valid_events_kept,
    unicode_edge_cases_are_stored_verbatim_or_refused,
    nul_characters_never_fail_a_batch,
    sql_looking_strings_are_data,
    bad_credentials_are_refused,
    another_projects_credentials_reach_nothing_here,
);
