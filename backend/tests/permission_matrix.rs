//! The permission matrix: every route of the route table, called with every kind of
//! credential, must answer the expected status; a route without an entry here fails the test.
//!
//! Credentials: none, malformed, an expired JWT, another project's token, another project's
//! API key, a revoked key, the right credential for the route, a member's session naming the
//! project, and a non-member's session naming it. Each call gets fresh resources (an
//! experiment to delete, a device code to approve, ...) so calls do not disturb each other.
//! When another project's credential succeeds (it acts on its own project), the answer must
//! not mention the project under test.

mod auth_support;
mod common;

use auth_support::{AuthServer, bearer};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use vibariant_backend::auth::{jwt, membership, session};
use vibariant_backend::first_run::create_project;
use vibariant_backend::routes::{Credential, ROUTES, RouteSpec};
use vibariant_backend::secrets::{hash_secret, new_id, now_ms};

/// The kinds of credential every route is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cred {
    None,
    Malformed,
    ExpiredJwt,
    OtherProjectToken,
    OtherProjectKey,
    RevokedKey,
    Right,
    MemberSession,
    NonMemberSession,
}

const CREDS: [Cred; 9] = [
    Cred::None,
    Cred::Malformed,
    Cred::ExpiredJwt,
    Cred::OtherProjectToken,
    Cred::OtherProjectKey,
    Cred::RevokedKey,
    Cred::Right,
    Cred::MemberSession,
    Cred::NonMemberSession,
];

/// What a call sends.
enum Body {
    Empty,
    Json(Value),
    Form(Vec<(String, String)>),
}

/// One prepared call and its expectations.
struct Fixture {
    path: String,
    body: Body,
    /// The status with the right credential.
    ok: u16,
    /// The status for another project's API key (API-key routes) or a non-member's session
    /// (session routes): 404 when the route names a resource of the project under test,
    /// otherwise the caller's own answer.
    foreign: u16,
}

fn fixture(path: impl Into<String>, body: Body, ok: u16, foreign: u16) -> Fixture {
    Fixture { path: path.into(), body, ok, foreign }
}

/// Everything the fixtures and credentials need.
struct World {
    server: AuthServer,
    /// The owner of the project under test.
    owner: String,
    owner_email: String,
    /// Someone who belongs to no project.
    stranger: String,
    other_token: String,
    other_key: String,
    revoked_key: String,
    /// A running experiment of the project under test, read by several routes.
    experiment: String,
}

impl World {
    fn project(&self) -> &str {
        &self.server.project.project_id
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> common::Reply {
        let auth = bearer(&self.server.project.api_key);
        self.server.call(method, path, &[("authorization", &auth)], body).await
    }

    async fn experiment(&self, running: bool) -> String {
        let key = format!("m{}", &new_id()[..12]);
        let body = json!({ "key": key, "variants": [{ "name": "control" }, { "name": "b" }] });
        let created = self.admin(Method::POST, "/v1/experiments", Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.json["id"].as_str().unwrap().to_owned();
        if running {
            self.admin(Method::POST, &format!("/v1/experiments/{id}/start"), None).await;
        }
        id
    }

    async fn session_of(&self, user_id: &str) -> session::Tokens {
        session::open(&self.server.state, user_id, "test").await.unwrap()
    }

    async fn exec(&self, sql: &str, binds: &[&str]) {
        let mut query = sqlx::query(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.execute(self.server.state.store().pool()).await.unwrap();
    }

    /// A fresh, pending device code; returns (device code, user code).
    async fn device_code(&self) -> (String, String) {
        let code = self.server.form("/v1/auth/device/code", &[], &[]).await;
        assert_eq!(code.status, StatusCode::OK, "{}", code.text);
        (
            code.json["device_code"].as_str().unwrap().to_owned(),
            code.json["user_code"].as_str().unwrap().to_owned(),
        )
    }

    /// A fresh magic-link token stored for a new address.
    async fn magic_token(&self) -> String {
        let token = session::new_secret();
        let now = now_ms();
        let email = format!("{}@example.com", &new_id()[..10]);
        let mut query = sqlx::query(
            "INSERT INTO magic_links (token_hash, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        );
        query = query.bind(hash_secret(&token)).bind(email).bind(now).bind(now + 600_000);
        query.execute(self.server.state.store().pool()).await.unwrap();
        token
    }

    /// The call for a route, with fresh resources; `None` for a route not covered here.
    async fn fixture(&self, spec: &RouteSpec) -> Option<Fixture> {
        let project = self.project().to_owned();
        let experiment = &self.experiment;
        let unique = &new_id()[..12];
        let events = json!({ "events": [{
            "id": vibariant_core::event_id(&rand_bytes()), "visitor_id": "v1",
            "ts": 1_000, "path": "/", "kind": "pageview" }] });
        let f = match (spec.method.as_str(), spec.path) {
            ("GET", "/healthz") => fixture("/healthz", Body::Empty, 200, 200),
            ("GET", "/readyz") => fixture("/readyz", Body::Empty, 200, 200),
            ("GET", "/v1/openapi.json") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/events") => fixture(spec.path, Body::Json(events), 200, 200),
            ("GET", "/v1/config") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/assign") => {
                fixture(spec.path, Body::Json(json!({ "visitor_id": "v1" })), 200, 200)
            }
            ("GET", "/v1/project") => fixture(spec.path, Body::Empty, 200, 200),
            ("GET", "/v1/project/tokens") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/project/tokens") => fixture(spec.path, Body::Empty, 201, 201),
            ("DELETE", "/v1/project/tokens/{token_id}") => {
                let made = self.admin(Method::POST, "/v1/project/tokens", None).await;
                let id = made.json["id"].as_str().unwrap();
                fixture(format!("/v1/project/tokens/{id}"), Body::Empty, 200, 404)
            }
            ("GET", "/v1/project/api-keys") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/project/api-keys") => {
                fixture(spec.path, Body::Json(json!({ "name": "matrix" })), 201, 201)
            }
            ("DELETE", "/v1/project/api-keys/{key_id}") => {
                let made = self.admin(Method::POST, "/v1/project/api-keys", Some(json!({}))).await;
                let id = made.json["id"].as_str().unwrap();
                fixture(format!("/v1/project/api-keys/{id}"), Body::Empty, 200, 404)
            }
            ("GET", "/v1/experiments") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/experiments") => {
                let body = json!({ "key": format!("n{unique}"),
                                   "variants": [{ "name": "a" }, { "name": "b" }] });
                fixture(spec.path, Body::Json(body), 201, 201)
            }
            ("GET", "/v1/experiments/{id}") => {
                fixture(format!("/v1/experiments/{experiment}"), Body::Empty, 200, 404)
            }
            ("PATCH", "/v1/experiments/{id}") => fixture(
                format!("/v1/experiments/{experiment}"),
                Body::Json(json!({ "name": "renamed" })),
                200,
                404,
            ),
            ("DELETE", "/v1/experiments/{id}") => {
                let id = self.experiment(false).await;
                fixture(format!("/v1/experiments/{id}"), Body::Empty, 200, 404)
            }
            ("POST", "/v1/experiments/{id}/start") => {
                let id = self.experiment(false).await;
                fixture(format!("/v1/experiments/{id}/start"), Body::Empty, 200, 404)
            }
            ("POST", "/v1/experiments/{id}/pause") => {
                let id = self.experiment(true).await;
                fixture(format!("/v1/experiments/{id}/pause"), Body::Empty, 200, 404)
            }
            ("POST", "/v1/experiments/{id}/complete") => {
                let id = self.experiment(true).await;
                let body = json!({ "shipped_variant": "control" });
                fixture(format!("/v1/experiments/{id}/complete"), Body::Json(body), 200, 404)
            }
            ("GET", "/v1/experiments/{id}/results") => {
                fixture(format!("/v1/experiments/{experiment}/results"), Body::Empty, 200, 404)
            }
            ("GET", "/v1/goals") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/goals") => {
                fixture(spec.path, Body::Json(json!({ "key": format!("g{unique}") })), 201, 201)
            }
            ("DELETE", "/v1/goals/{key}") => {
                let key = format!("g{unique}");
                let made = self.admin(Method::POST, "/v1/goals", Some(json!({ "key": key }))).await;
                assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
                fixture(format!("/v1/goals/{key}"), Body::Empty, 200, 404)
            }
            ("GET", "/v1/goal-candidates") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/goal-candidates/{candidate_key}/confirm") => {
                let key = format!("signup:{unique}");
                let now = now_ms().to_string();
                self.exec(
                    "INSERT INTO goal_candidates (project_id, candidate_key, category, \
                     event_kind, label, confidence, occurrences, first_seen, last_seen) \
                     VALUES ($1, $2, 'signup', 'click', 'Sign up', 0.9, 1, \
                     CAST($3 AS BIGINT), CAST($3 AS BIGINT))",
                    &[&project, &key, &now],
                )
                .await;
                let body = json!({ "key": format!("c{unique}") });
                let path = format!("/v1/goal-candidates/{key}/confirm");
                fixture(path, Body::Json(body), 201, 404)
            }
            ("POST", "/v1/auth/magic-link") => {
                let body = json!({ "email": format!("{unique}@example.com") });
                fixture(spec.path, Body::Json(body), 202, 202)
            }
            ("POST", "/v1/auth/magic-link/verify") => {
                let body = json!({ "token": self.magic_token().await });
                fixture(spec.path, Body::Json(body), 200, 200)
            }
            ("GET", "/auth/magic") => fixture("/auth/magic?token=x", Body::Empty, 200, 200),
            ("POST", "/auth/magic") => {
                let form = vec![("token".to_owned(), self.magic_token().await)];
                fixture(spec.path, Body::Form(form), 200, 200)
            }
            ("GET", "/v1/auth/github/start") => fixture(spec.path, Body::Empty, 303, 303),
            // No code and no state: refused whoever asks.
            ("GET", "/v1/auth/github/callback") => fixture(spec.path, Body::Empty, 400, 400),
            ("POST", "/v1/auth/device/code") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/auth/device/token") => {
                let (device_code, _) = self.device_code().await;
                let form = vec![
                    ("grant_type".to_owned(), jwt_free_grant()),
                    ("device_code".to_owned(), device_code),
                ];
                // authorization_pending, whoever polls: the device code is the credential.
                fixture(spec.path, Body::Form(form), 400, 400)
            }
            ("GET", "/device") => fixture("/device?user_code=BCDF-GHJK", Body::Empty, 200, 200),
            ("POST", "/device") => {
                let (_, user_code) = self.device_code().await;
                let form = vec![
                    ("user_code".to_owned(), user_code),
                    ("action".to_owned(), "approve".into()),
                ];
                fixture(spec.path, Body::Form(form), 200, 200)
            }
            ("POST", "/v1/auth/refresh") => {
                let tokens = self.session_of(&self.owner).await;
                let body = json!({ "refresh_token": tokens.refresh_token });
                fixture(spec.path, Body::Json(body), 200, 200)
            }
            ("POST", "/v1/auth/logout") => fixture(spec.path, Body::Empty, 200, 200),
            ("GET", "/v1/auth/me") => fixture(spec.path, Body::Empty, 200, 200),
            ("GET", "/v1/projects") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/projects") => {
                fixture(spec.path, Body::Json(json!({ "name": "matrix" })), 201, 201)
            }
            ("GET", "/v1/projects/{project_id}/members") => {
                fixture(format!("/v1/projects/{project}/members"), Body::Empty, 200, 404)
            }
            ("POST", "/v1/projects/{project_id}/invitations") => fixture(
                format!("/v1/projects/{project}/invitations"),
                Body::Json(json!({ "email": format!("{unique}@example.com") })),
                201,
                404,
            ),
            ("GET", "/v1/invitations") => fixture(spec.path, Body::Empty, 200, 200),
            ("POST", "/v1/invitations/{invitation_id}/accept") => {
                // An invitation to the owner's address, to a project they are not in yet.
                let elsewhere =
                    create_project(self.server.state.store(), "elsewhere").await.unwrap();
                let id = new_id();
                let now = now_ms().to_string();
                self.exec(
                    "INSERT INTO invitations (id, project_id, email, created_at) \
                     VALUES ($1, $2, $3, CAST($4 AS BIGINT))",
                    &[&id, &elsewhere.project_id, &self.owner_email, &now],
                )
                .await;
                fixture(format!("/v1/invitations/{id}/accept"), Body::Empty, 200, 404)
            }
            _ => return None,
        };
        Some(f)
    }

    /// The headers a call carries for `cred` on `spec`.
    async fn headers(&self, cred: Cred, spec: &RouteSpec) -> Vec<(&'static str, String)> {
        let project = ("x-vibariant-project", self.project().to_owned());
        match cred {
            Cred::None => vec![],
            Cred::Malformed => vec![("authorization", "Bearer %%not-a-credential%%".into())],
            Cred::ExpiredJwt => {
                let tokens = self.session_of(&self.owner).await;
                let then = now_ms() / 1000 - 3600;
                let secret = auth_support::SECRET.as_bytes();
                let expired = jwt::issue(secret, &self.owner, &tokens.session_id, then);
                vec![("authorization", bearer(&expired)), project]
            }
            Cred::OtherProjectToken => vec![("authorization", bearer(&self.other_token))],
            Cred::OtherProjectKey => vec![("authorization", bearer(&self.other_key))],
            Cred::RevokedKey => vec![("authorization", bearer(&self.revoked_key))],
            Cred::Right => match spec.credential {
                Credential::Public => vec![],
                Credential::ProjectToken => {
                    vec![("authorization", bearer(&self.server.project.project_token))]
                }
                Credential::ApiKey => vec![("authorization", bearer(&self.server.project.api_key))],
                Credential::Session => {
                    let tokens = self.session_of(&self.owner).await;
                    vec![("authorization", bearer(&tokens.access_token))]
                }
            },
            Cred::MemberSession => {
                let tokens = self.session_of(&self.owner).await;
                vec![("authorization", bearer(&tokens.access_token)), project]
            }
            Cred::NonMemberSession => {
                let tokens = self.session_of(&self.stranger).await;
                vec![("authorization", bearer(&tokens.access_token)), project]
            }
        }
    }
}

fn jwt_free_grant() -> String {
    "urn:ietf:params:oauth:grant-type:device_code".into()
}

fn rand_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hex::decode(new_id()).unwrap());
    bytes
}

/// The status `cred` must get on `spec`, given the route's fixture.
fn expected(cred: Cred, spec: &RouteSpec, f: &Fixture) -> u16 {
    use Cred::*;
    match spec.credential {
        Credential::Public => f.ok,
        // Another project's token or key is valid for its own project; sessions are not
        // accepted where the public token is.
        Credential::ProjectToken => match cred {
            Right | OtherProjectToken | OtherProjectKey => f.ok,
            _ => 401,
        },
        Credential::ApiKey => match cred {
            Right | MemberSession => f.ok,
            OtherProjectKey => f.foreign,
            OtherProjectToken => 403,
            NonMemberSession => 404,
            None | Malformed | ExpiredJwt | RevokedKey => 401,
        },
        Credential::Session => match cred {
            Right | MemberSession => f.ok,
            NonMemberSession => f.foreign,
            _ => 401,
        },
    }
}

async fn world(server: AuthServer) -> World {
    let state = &server.state;
    let owner_email = "owner@example.com".to_owned();
    let owner = membership::user_for_email(state, &owner_email).await.unwrap();
    membership::make_owner(state, &owner, &server.project.project_id).await.unwrap();
    let stranger = membership::user_for_email(state, "stranger@example.com").await.unwrap();
    let other = create_project(state.store(), "other").await.unwrap();
    let mut world = World {
        owner,
        owner_email,
        stranger,
        other_token: other.project_token,
        other_key: other.api_key,
        revoked_key: String::new(),
        experiment: String::new(),
        server,
    };
    let made = world.admin(Method::POST, "/v1/project/api-keys", Some(json!({}))).await;
    world.revoked_key = made.json["key"].as_str().unwrap().to_owned();
    let id = made.json["id"].as_str().unwrap().to_owned();
    let revoked = world.admin(Method::DELETE, &format!("/v1/project/api-keys/{id}"), None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    world.experiment = world.experiment(true).await;
    world
}

async fn every_route_answers_every_credential_as_expected(server: AuthServer) {
    let world = world(server).await;
    let mut failures = Vec::new();
    let mut missing = Vec::new();
    let mut cases = 0;
    for spec in ROUTES {
        for cred in CREDS {
            let Some(f) = world.fixture(spec).await else {
                missing.push(format!("{} {}", spec.method, spec.path));
                break;
            };
            let headers = world.headers(cred, spec).await;
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let reply = match &f.body {
                Body::Empty => {
                    world.server.call(spec.method.clone(), &f.path, &headers, None).await
                }
                Body::Json(body) => {
                    world
                        .server
                        .call(spec.method.clone(), &f.path, &headers, Some(body.clone()))
                        .await
                }
                Body::Form(form) => {
                    let form: Vec<(&str, &str)> =
                        form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                    world.server.form(&f.path, &headers, &form).await
                }
            };
            cases += 1;
            let want = expected(cred, spec, &f);
            if reply.status.as_u16() != want {
                failures.push(format!(
                    "{} {} with {cred:?}: {} (expected {want}): {}",
                    spec.method,
                    f.path,
                    reply.status.as_u16(),
                    reply.text.chars().take(160).collect::<String>()
                ));
                continue;
            }
            // A foreign credential that succeeded acted on its own project: nothing of the
            // project under test may show.
            let foreign = matches!(cred, Cred::OtherProjectKey | Cred::OtherProjectToken);
            if foreign && reply.status.is_success() && spec.credential != Credential::Public {
                for secret in [world.project(), world.experiment.as_str()] {
                    if reply.text.contains(secret) {
                        failures.push(format!(
                            "{} {} with {cred:?} leaked {secret}",
                            spec.method, f.path
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "routes without a matrix entry: {missing:?}");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cases, ROUTES.len() * CREDS.len());
    eprintln!(
        "permission matrix: {} routes x {} credentials = {cases} cases",
        ROUTES.len(),
        CREDS.len()
    );
}

auth_tests!(Production: every_route_answers_every_credential_as_expected);
