//! The API end to end on both databases: experiments, ingestion, goals, config, assignment,
//! credentials, and the route table.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestServer, event};
use serde_json::json;
use vibariant_backend::routes::ROUTES;

#[test]
fn the_route_table_lists_exactly_the_mounted_routes() {
    let mut mounted: Vec<(String, String)> = vibariant_backend::routes()
        .mounted()
        .iter()
        .map(|(method, path)| (method.to_string(), (*path).to_owned()))
        .collect();
    let mut documented: Vec<(String, String)> =
        ROUTES.iter().map(|spec| (spec.method.to_string(), spec.path.to_owned())).collect();
    mounted.sort();
    documented.sort();
    assert_eq!(mounted, documented);
}

const HERO: &str = "hero-cta";

fn hero_experiment() -> serde_json::Value {
    json!({ "key": HERO, "variants": [{ "name": "control" }, { "name": "bold" }],
            "primary_goal": "signup" })
}

async fn every_documented_route_is_served(server: TestServer) {
    let openapi = server.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(openapi.status, StatusCode::OK);
    for spec in ROUTES {
        let path = spec.path.replace('{', "x").replace('}', "");
        let reply = server.call(spec.method.clone(), &path, None, None).await;
        // Unauthenticated calls fail on credentials, never on routing.
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "{} {path}", spec.method);
        // Sign-in's pages (`/device`, `/auth/…`) answer HTML; everything else JSON.
        let page = spec.path == "/device" || spec.path.starts_with("/auth/");
        assert!(page || reply.json.is_object(), "{} {path}: {}", spec.method, reply.text);
        let documented = &openapi.json["paths"][spec.path][spec.method.as_str().to_lowercase()];
        assert!(documented.is_object(), "{} {} missing from OpenAPI", spec.method, spec.path);
    }
    let unknown = server.call(Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json["error"]["code"], "not_found");
}

async fn experiments_follow_their_lifecycle_and_reject_bad_input(server: TestServer) {
    let created = server.admin(Method::POST, "/v1/experiments", Some(hero_experiment())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["status"], "draft");
    assert_eq!(created.json["variants"][1]["weight"], 0.5);
    let id = created.json["id"].as_str().unwrap().to_owned();

    let duplicate = server.admin(Method::POST, "/v1/experiments", Some(hero_experiment())).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.json["error"]["code"], "conflict");

    for bad in [
        json!({ "key": "w",
                "variants": [{ "name": "a", "weight": -1 }, { "name": "b", "weight": 1 }] }),
        json!({ "key": "w", "variants": [{ "name": "a" }, { "name": "a" }] }),
        json!({ "key": "w", "variants": [{ "name": "a" }] }),
        json!({ "key": "bad key!", "variants": [{ "name": "a" }, { "name": "b" }] }),
        json!({ "key": "w", "variants": [{ "name": "a" }, { "name": "b" }], "coverage": 2 }),
    ] {
        let reply = server.admin(Method::POST, "/v1/experiments", Some(bad.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", reply.text);
        assert!(reply.json["error"]["message"].as_str().unwrap().len() > 5);
    }
    let wrong_type = server.admin(Method::POST, "/v1/experiments", Some(json!({ "key": 5 }))).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);

    let path = format!("/v1/experiments/{id}");
    let reweighted = json!({ "variants": [{ "name": "control", "weight": 3 },
                                          { "name": "bold", "weight": 1 }] });
    let patched = server.admin(Method::PATCH, &path, Some(reweighted.clone())).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json["variants"][0]["weight"], 0.75);

    let started = server.admin(Method::POST, &format!("{path}/start"), None).await;
    assert_eq!(started.json["status"], "running");
    let locked = server.admin(Method::PATCH, &path, Some(reweighted)).await;
    assert_eq!(locked.status, StatusCode::CONFLICT);
    let renamed = server.admin(Method::PATCH, &path, Some(json!({ "name": "Hero" }))).await;
    assert_eq!(renamed.json["name"], "Hero");
    let running_delete = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(running_delete.status, StatusCode::CONFLICT);

    let paused = server.admin(Method::POST, &format!("{path}/pause"), None).await;
    assert_eq!(paused.json["status"], "paused");
    let unknown_variant = server
        .admin(Method::POST, &format!("{path}/complete"), Some(json!({ "shipped_variant": "x" })))
        .await;
    assert_eq!(unknown_variant.status, StatusCode::UNPROCESSABLE_ENTITY);
    let completed = server
        .admin(
            Method::POST,
            &format!("{path}/complete"),
            Some(json!({ "shipped_variant": "bold" })),
        )
        .await;
    assert_eq!(completed.json["status"], "completed");
    assert_eq!(completed.json["shipped_variant"], "bold");
    let restart = server.admin(Method::POST, &format!("{path}/start"), None).await;
    assert_eq!(restart.status, StatusCode::CONFLICT);

    let listed = server.admin(Method::GET, "/v1/experiments", None).await;
    assert_eq!(listed.json["experiments"].as_array().unwrap().len(), 1);
    let deleted = server.admin(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(server.admin(Method::GET, &path, None).await.status, StatusCode::NOT_FOUND);
}

async fn the_same_batch_sent_three_times_counts_once(server: TestServer) {
    let id = server.running_experiment(hero_experiment()).await;
    let batch = vec![
        event(1, "v1", 1_000, "exposure", json!({ "experiment": HERO, "variant": "bold" })),
        event(2, "v1", 2_000, "goal", json!({ "goal": "signup" })),
        event(3, "v1", 3_000, "scroll", json!({ "depth": 80 })),
    ];
    let first = server.post_events(batch.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json["accepted"], 3);
    for _ in 0..2 {
        let again = server.post_events(batch.clone()).await;
        assert_eq!(again.json["accepted"], 0);
        assert_eq!(again.json["duplicates"], 3);
    }
    let visitors = "SELECT visitors FROM variant_stats WHERE experiment_id = $1 AND variant = $2";
    assert_eq!(server.scalar(visitors, &[&id, "bold"]).await, 1);
    let conversions =
        "SELECT conversions FROM goal_stats WHERE experiment_id = $1 AND variant = $2";
    assert_eq!(server.scalar(conversions, &[&id, "bold"]).await, 1);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM events", &[]).await, 3);
    let scroll = "SELECT CAST(value_sum AS BIGINT) FROM metric_stats \
                  WHERE experiment_id = $1 AND metric = 'scroll_depth'";
    assert_eq!(server.scalar(scroll, &[&id]).await, 80);
    let audit = vibariant_backend::store::audit::recount(server.state.store()).await.unwrap();
    assert_eq!(audit, Vec::<String>::new());
}

async fn a_batch_with_bad_events_keeps_the_good_ones(server: TestServer) {
    let mut bad_id = event(11, "v", 1, "pageview", json!({}));
    bad_id["id"] = json!("not-an-id");
    let batch = vec![
        event(10, "v", 1, "pageview", json!({})),
        bad_id,
        event(12, "v", 1, "scroll", json!({ "depth": 101 })),
        event(13, "v", 1, "teleport", json!({})),
        event(14, "", 1, "pageview", json!({})),
        event(15, "v", 1, "click", json!({ "element": { "tag": "a", "text": "Buy now" } })),
    ];
    let reply = server.post_events(batch).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], 2);
    let rejected: Vec<u64> = reply.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [1, 2, 3, 4]);
    assert_eq!(reply.json["rejected"][1]["id"], common::event_id(12));

    let all_bad = server.post_events(vec![json!({ "id": 5 })]).await;
    assert_eq!(all_bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(all_bad.json["error"]["code"], "unprocessable");
    assert_eq!(all_bad.json["rejected"][0]["index"], 0);
}

async fn the_first_exposure_sticks_and_conversions_count_once(server: TestServer) {
    let id = server.running_experiment(hero_experiment()).await;
    let reply = server
        .post_events(vec![
            event(1, "v1", 1_000, "exposure", json!({ "experiment": HERO, "variant": "bold" })),
            event(2, "v1", 1_500, "exposure", json!({ "experiment": HERO, "variant": "control" })),
            event(3, "v1", 2_000, "goal", json!({ "goal": "signup", "value": 9.5 })),
            event(4, "v1", 2_500, "goal", json!({ "goal": "signup" })),
            event(5, "v2", 1_000, "exposure", json!({ "experiment": HERO, "variant": "control" })),
            // Before v2's exposure on the client clock: the variant cannot have caused it.
            event(6, "v2", 500, "goal", json!({ "goal": "signup" })),
            // A visitor never exposed converts for no experiment.
            event(7, "v3", 2_000, "goal", json!({ "goal": "signup" })),
        ])
        .await;
    assert_eq!(reply.json["accepted"], 7, "{}", reply.text);
    let visitors = "SELECT visitors FROM variant_stats WHERE experiment_id = $1 AND variant = $2";
    assert_eq!(server.scalar(visitors, &[&id, "bold"]).await, 1);
    assert_eq!(server.scalar(visitors, &[&id, "control"]).await, 1);
    let conversions = "SELECT CAST(COALESCE(SUM(conversions), 0) AS BIGINT) FROM goal_stats \
                       WHERE experiment_id = $1 AND variant = $2";
    assert_eq!(server.scalar(conversions, &[&id, "bold"]).await, 1);
    assert_eq!(server.scalar(conversions, &[&id, "control"]).await, 0);
    let value = "SELECT CAST(value_sum * 10 AS BIGINT) FROM goal_stats WHERE experiment_id = $1";
    assert_eq!(server.scalar(value, &[&id]).await, 95);
}

async fn an_exposure_arriving_late_attributes_the_events_after_it(server: TestServer) {
    let id = server.running_experiment(hero_experiment()).await;
    // The goal and engagement reach the server first (a beacon overtook the exposure's fetch).
    server
        .post_events(vec![
            event(1, "v1", 2_000, "goal", json!({ "goal": "signup" })),
            event(2, "v1", 2_100, "engagement", json!({ "ms": 4_000 })),
            event(3, "v1", 500, "pageview", json!({})),
        ])
        .await;
    server
        .post_events(vec![event(
            4,
            "v1",
            1_000,
            "exposure",
            json!({ "experiment": HERO, "variant": "bold" }),
        )])
        .await;
    let conversions = "SELECT CAST(COALESCE(SUM(conversions), 0) AS BIGINT) FROM goal_stats \
                       WHERE experiment_id = $1";
    assert_eq!(server.scalar(conversions, &[&id]).await, 1);
    let seconds = "SELECT CAST(value_sum AS BIGINT) FROM metric_stats \
                   WHERE experiment_id = $1 AND metric = 'engaged_seconds'";
    assert_eq!(server.scalar(seconds, &[&id]).await, 4);
    let pageviews = "SELECT COUNT(*) FROM metric_stats WHERE experiment_id = $1 \
                     AND metric = 'pageviews'";
    assert_eq!(server.scalar(pageviews, &[&id]).await, 0, "the pageview came before");
}

async fn confirmed_candidates_count_retroactively_and_from_then_on(server: TestServer) {
    let id = server
        .running_experiment(json!({ "key": HERO, "variants": [{ "name": "control" },
                                                              { "name": "bold" }] }))
        .await;
    let trial = json!({ "element": { "tag": "button", "text": "Start free trial" } });
    server
        .post_events(vec![
            event(1, "v1", 1_000, "exposure", json!({ "experiment": HERO, "variant": "bold" })),
            event(2, "v1", 2_000, "click", trial.clone()),
            event(3, "v2", 1_000, "exposure", json!({ "experiment": HERO, "variant": "control" })),
            event(
                4,
                "v2",
                2_000,
                "click",
                json!({ "element": { "tag": "button",
                                                                "text": "start  FREE trial" } }),
            ),
            event(
                5,
                "v2",
                2_000,
                "click",
                json!({ "element": { "tag": "button",
                                                                "text": "Close" } }),
            ),
        ])
        .await;
    let candidates = server.admin(Method::GET, "/v1/goal-candidates", None).await;
    let list = candidates.json["candidates"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", candidates.text);
    assert_eq!(list[0]["category"], "start_trial");
    assert_eq!(list[0]["occurrences"], 2);
    assert_eq!(list[0]["confirmed_as"], json!(null));
    let key = list[0]["key"].as_str().unwrap();

    let confirmed =
        server.admin(Method::POST, &format!("/v1/goal-candidates/{key}/confirm"), None).await;
    assert_eq!(confirmed.status, StatusCode::CREATED, "{}", confirmed.text);
    assert_eq!(confirmed.json["key"], "start_trial");
    let conversions = "SELECT CAST(COALESCE(SUM(conversions), 0) AS BIGINT) FROM goal_stats \
                       WHERE experiment_id = $1 AND goal_key = 'start_trial'";
    assert_eq!(server.scalar(conversions, &[&id]).await, 2);

    server
        .post_events(vec![
            event(6, "v3", 1_000, "exposure", json!({ "experiment": HERO, "variant": "bold" })),
            event(7, "v3", 3_000, "click", trial),
        ])
        .await;
    assert_eq!(server.scalar(conversions, &[&id]).await, 3);
    let again =
        server.admin(Method::POST, &format!("/v1/goal-candidates/{key}/confirm"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let listed = server.admin(Method::GET, "/v1/goal-candidates", None).await;
    assert_eq!(listed.json["candidates"][0]["confirmed_as"], "start_trial");
}

async fn custom_track_names_are_usable_as_goals(server: TestServer) {
    let id = server.running_experiment(hero_experiment()).await;
    server
        .post_events(vec![
            event(1, "v1", 1_000, "exposure", json!({ "experiment": HERO, "variant": "bold" })),
            event(2, "v1", 2_000, "custom", json!({ "name": "paid", "props": { "plan": "pro" } })),
        ])
        .await;
    let goal = server
        .admin(Method::POST, "/v1/goals", Some(json!({ "key": "paid", "custom_event": "paid" })))
        .await;
    assert_eq!(goal.status, StatusCode::CREATED, "{}", goal.text);
    assert_eq!(goal.json["match"], "custom:paid");
    let conversions = "SELECT CAST(COALESCE(SUM(conversions), 0) AS BIGINT) FROM goal_stats \
                       WHERE experiment_id = $1 AND goal_key = 'paid'";
    assert_eq!(server.scalar(conversions, &[&id]).await, 1);
    let goals = server.admin(Method::GET, "/v1/goals", None).await;
    let keys: Vec<&str> = goals.json["goals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["paid", "signup"]);
    let removed = server.admin(Method::DELETE, "/v1/goals/paid", None).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(server.scalar(conversions, &[&id]).await, 0);
}

async fn config_revalidates_with_an_etag_and_allows_any_origin(server: TestServer) {
    server.running_experiment(hero_experiment()).await;
    let token = server.project.project_token.clone();
    let first = server.call(Method::GET, "/v1/config", Some(&token), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json["experiments"][0]["key"], HERO);
    assert_eq!(first.json["experiments"][0]["variants"][0]["weight"], 0.5);
    assert_eq!(first.json["goals"][0]["key"], "signup");
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert!(first.headers["cache-control"].to_str().unwrap().contains("max-age"));

    let revalidated = server
        .send(
            Request::get("/v1/config")
                .header("authorization", format!("Bearer {token}"))
                .header("if-none-match", &etag)
                .header("origin", "https://someone.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.headers["access-control-allow-origin"], "*");

    // A change through the API shows at once, with a new ETag.
    let created = server
        .admin(
            Method::POST,
            "/v1/experiments",
            Some(json!({ "key": "second",
            "variants": [{ "name": "a" }, { "name": "b" }] })),
        )
        .await;
    let second = created.json["id"].as_str().unwrap().to_owned();
    server.admin(Method::POST, &format!("/v1/experiments/{second}/start"), None).await;
    let changed = server.call(Method::GET, "/v1/config", Some(&token), None).await;
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    assert_eq!(changed.json["experiments"].as_array().unwrap().len(), 2);

    let preflight = server
        .send(
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/v1/events")
                .header("origin", "https://someone.example")
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");

    let admin = server
        .send(
            Request::get("/v1/experiments")
                .header("authorization", format!("Bearer {}", server.project.api_key))
                .header("origin", "https://someone.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(!admin.headers.contains_key("access-control-allow-origin"));
}

async fn beacons_send_text_plain_with_the_token_in_the_query(server: TestServer) {
    let body = json!({ "events": [event(1, "v", 1, "pageview", json!({}))] }).to_string();
    let reply = server
        .send(
            Request::post(format!("/v1/events?token={}", server.project.project_token))
                .header("content-type", "text/plain;charset=UTF-8")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["accepted"], 1);

    let xml = server
        .send(
            Request::post(format!("/v1/events?token={}", server.project.project_token))
                .header("content-type", "application/xml")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(xml.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(xml.json["error"]["code"], "unsupported_media_type");
}

async fn oversized_and_malformed_bodies_get_json_errors(server: TestServer) {
    let token = server.project.project_token.clone();
    let padding = "x".repeat(70 * 1024);
    let huge = server
        .send(
            Request::post("/v1/events")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(format!("{{\"events\": [], \"pad\": \"{padding}\"}}")))
                .unwrap(),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.text);
    assert_eq!(huge.json["error"]["code"], "payload_too_large");

    for body in ["{", "[]", "{\"events\": {}}", &format!("{}{}", "[".repeat(500), "]".repeat(500))]
    {
        let reply = server
            .send(
                Request::post("/v1/events")
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_owned()))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.text);
        assert!(reply.json["error"]["message"].is_string());
    }
}

async fn credentials_reach_only_what_they_may(server: TestServer) {
    let token = server.project.project_token.clone();
    let forbidden = server.call(Method::GET, "/v1/experiments", Some(&token), None).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let missing = server.call(Method::GET, "/v1/experiments", None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let wrong = server.call(Method::GET, "/v1/config", Some("vv_proj_nope"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json["error"]["code"], "unauthorized");

    // Another project's key sees none of this project's experiments.
    let id = server.running_experiment(hero_experiment()).await;
    let other =
        vibariant_backend::first_run::create_project(server.state.store(), "other").await.unwrap();
    let foreign = server
        .call(Method::GET, &format!("/v1/experiments/{id}"), Some(&other.api_key), None)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let foreign_list =
        server.call(Method::GET, "/v1/experiments", Some(&other.api_key), None).await;
    assert_eq!(foreign_list.json["experiments"], json!([]));
    // Its token writes only into its own project.
    let reply = server
        .call(
            Method::POST,
            "/v1/events",
            Some(&other.project_token),
            Some(json!({ "events": [event(1, "v", 5, "exposure",
                json!({ "experiment": HERO, "variant": "bold" }))] })),
        )
        .await;
    assert_eq!(reply.json["accepted"], 1);
    let visitors = "SELECT CAST(COALESCE(SUM(visitors), 0) AS BIGINT) FROM variant_stats \
                    WHERE experiment_id = $1";
    assert_eq!(server.scalar(visitors, &[&id]).await, 0);

    // Tokens: create, use, revoke (effective at once), and keys likewise.
    let made = server.admin(Method::POST, "/v1/project/tokens", None).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let new_token = made.json["token"].as_str().unwrap().to_owned();
    let token_id = made.json["id"].as_str().unwrap().to_owned();
    let works = server.call(Method::GET, "/v1/config", Some(&new_token), None).await;
    assert_eq!(works.status, StatusCode::OK);
    let listed = server.admin(Method::GET, "/v1/project/tokens", None).await;
    assert_eq!(listed.json["tokens"].as_array().unwrap().len(), 2);
    assert!(!listed.text.contains(&new_token), "a token is shown only when made");
    let revoked =
        server.admin(Method::DELETE, &format!("/v1/project/tokens/{token_id}"), None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = server.call(Method::GET, "/v1/config", Some(&new_token), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let key =
        server.admin(Method::POST, "/v1/project/api-keys", Some(json!({ "name": "ci" }))).await;
    let secret = key.json["key"].as_str().unwrap().to_owned();
    let key_id = key.json["id"].as_str().unwrap().to_owned();
    let project = server.call(Method::GET, "/v1/project", Some(&secret), None).await;
    assert_eq!(project.json["id"], server.project.project_id.as_str());
    server.admin(Method::DELETE, &format!("/v1/project/api-keys/{key_id}"), None).await;
    let gone = server.call(Method::GET, "/v1/project", Some(&secret), None).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    let foreign_revoke = server
        .call(Method::DELETE, &format!("/v1/project/tokens/{token_id}"), Some(&other.api_key), None)
        .await;
    assert_eq!(foreign_revoke.status, StatusCode::NOT_FOUND);
}

async fn assignment_matches_the_core_and_sticks(server: TestServer) {
    server.running_experiment(hero_experiment()).await;
    let token = server.project.project_token.clone();
    for visitor in ["alice", "bob", "carol", "dave"] {
        let reply = server
            .call(Method::POST, "/v1/assign", Some(&token), Some(json!({ "visitor_id": visitor })))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let expected = vibariant_core::assign(visitor, HERO, &[0.5, 0.5], 1.0).unwrap().unwrap();
        let names = ["control", "bold"];
        assert_eq!(reply.json["assignments"][HERO], names[expected]);
    }
    assert_eq!(server.scalar("SELECT COUNT(*) FROM assignments", &[]).await, 4);
    let again = server
        .call(Method::POST, "/v1/assign", Some(&token), Some(json!({ "visitor_id": "alice" })))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(server.scalar("SELECT COUNT(*) FROM assignments", &[]).await, 4);
    let bad = server
        .call(Method::POST, "/v1/assign", Some(&token), Some(json!({ "visitor_id": "" })))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_real_socket_serves_events_and_health(server: TestServer) {
    let id = server.running_experiment(hero_experiment()).await;
    let (addr, stop) = server.listen().await;
    let client = reqwest::Client::new();
    let health = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(format!("http://{addr}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().contains_key("x-request-id"));
    let mut tasks = Vec::new();
    for client_index in 0..4u64 {
        let client = client.clone();
        let token = server.project.project_token.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..5u64 {
                let events: Vec<_> = (0..10u64)
                    .map(|i| {
                        let n = client_index * 1_000 + batch * 10 + i;
                        event(
                            n,
                            &format!("visitor-{n}"),
                            1_000,
                            "exposure",
                            json!({ "experiment": HERO, "variant": "control" }),
                        )
                    })
                    .collect();
                let reply = client
                    .post(format!("http://{addr}/v1/events"))
                    .bearer_auth(&token)
                    .json(&json!({ "events": events }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let _ = stop.send(());
    let visitors = "SELECT visitors FROM variant_stats WHERE experiment_id = $1 AND variant = $2";
    assert_eq!(server.scalar(visitors, &[&id, "control"]).await, 200);
}

async fn results_and_bandit_weights_come_from_the_aggregates(server: TestServer) {
    let id = server
        .running_experiment(json!({ "key": HERO, "variants": [{ "name": "control" },
            { "name": "bold" }], "primary_goal": "signup", "allocation": "thompson" }))
        .await;
    let mut events = Vec::new();
    for i in 0..80u64 {
        let visitor = format!("v{i}");
        let variant = if i % 2 == 0 { "control" } else { "bold" };
        events.push(event(
            i * 10,
            &visitor,
            1_000,
            "exposure",
            json!({ "experiment": HERO, "variant": variant }),
        ));
        events.push(event(i * 10 + 1, &visitor, 1_100, "scroll", json!({ "depth": 50 })));
        // bold converts 20 of 40, control 2 of 40.
        if (variant == "bold" && i % 4 == 1) || (variant == "control" && i % 40 == 0) {
            events.push(event(i * 10 + 2, &visitor, 2_000, "goal", json!({ "goal": "signup" })));
        }
    }
    let reply = server.post_events(events).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let results = server.admin(Method::GET, &format!("/v1/experiments/{id}/results"), None).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    let analysis = &results.json["analysis"];
    assert_eq!(analysis["variants"][0]["visitors"], 40);
    assert_eq!(analysis["variants"][0]["conversions"], 2);
    assert_eq!(analysis["variants"][1]["conversions"], 20);
    assert_eq!(analysis["leader"], "bold");
    assert!(analysis["recommendation"].as_str().unwrap().contains("bold"));
    assert!(analysis["proxy"].is_object(), "engagement is analysed: {}", results.text);

    let config = server
        .call(Method::GET, "/v1/config", Some(&server.project.project_token.clone()), None)
        .await;
    let bold_weight = config.json["experiments"][0]["variants"][1]["weight"].as_f64().unwrap();
    assert!(bold_weight > 0.8, "Thompson moves traffic to the winner: {bold_weight}");
    let audit = vibariant_backend::store::audit::recount(server.state.store()).await.unwrap();
    assert_eq!(audit, Vec::<String>::new());

    let foreign =
        vibariant_backend::first_run::create_project(server.state.store(), "other").await.unwrap();
    let hidden = server
        .call(Method::GET, &format!("/v1/experiments/{id}/results"), Some(&foreign.api_key), None)
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}

both_databases!(
    results_and_bandit_weights_come_from_the_aggregates,
    every_documented_route_is_served,
    experiments_follow_their_lifecycle_and_reject_bad_input,
    the_same_batch_sent_three_times_counts_once,
    a_batch_with_bad_events_keeps_the_good_ones,
    the_first_exposure_sticks_and_conversions_count_once,
    an_exposure_arriving_late_attributes_the_events_after_it,
    confirmed_candidates_count_retroactively_and_from_then_on,
    custom_track_names_are_usable_as_goals,
    config_revalidates_with_an_etag_and_allows_any_origin,
    beacons_send_text_plain_with_the_token_in_the_query,
    oversized_and_malformed_bodies_get_json_errors,
    credentials_reach_only_what_they_may,
    assignment_matches_the_core_and_sticks,
    a_real_socket_serves_events_and_health,
);
