//! The route table: every route's method, path, credential and summary, in one place.
//!
//! [`crate::app`] registers handlers through [`Routes`], which records each (method, path) it
//! mounts; a test checks that record against [`ROUTES`], and the OpenAPI document served at
//! `/v1/openapi.json` is generated from [`ROUTES`]. A route therefore cannot be added without
//! being documented.

use axum::Router;
use axum::http::Method;
use axum::routing::MethodRouter;
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// What a route accepts as credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// No credential.
    Public,
    /// The public project token (header or `?token=`), or an API key of the project.
    ProjectToken,
    /// A secret API key of the project, or a member's session naming the project in
    /// `X-Vibariant-Project`.
    ApiKey,
    /// A signed-in person: an access token (JWT) as bearer, or the session cookie.
    Session,
}

/// One documented route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: Method,
    /// The path in axum's syntax (`{id}` for a parameter), which OpenAPI shares.
    pub path: &'static str,
    /// The credential the route requires.
    pub credential: Credential,
    /// Whether any web origin may call it (CORS).
    pub cors: bool,
    /// A one-line summary.
    pub summary: &'static str,
}

const fn route(
    method: Method,
    path: &'static str,
    credential: Credential,
    summary: &'static str,
) -> RouteSpec {
    let cors = matches!(credential, Credential::ProjectToken);
    RouteSpec { method, path, credential, cors, summary }
}

use Credential::{ApiKey, ProjectToken, Public, Session};

/// Every route the server serves.
pub const ROUTES: &[RouteSpec] = &[
    route(Method::GET, "/healthz", Public, "Liveness: the process is up"),
    route(Method::GET, "/readyz", Public, "Readiness: the database answers and not draining"),
    route(Method::GET, "/v1/openapi.json", Public, "This OpenAPI document"),
    route(Method::POST, "/v1/events", ProjectToken, "Ingest a batch of events"),
    route(Method::GET, "/v1/config", ProjectToken, "Running experiments, weights and goals"),
    route(Method::POST, "/v1/assign", ProjectToken, "Assign a visitor to running experiments"),
    route(Method::GET, "/v1/project", ApiKey, "The key's project"),
    route(Method::GET, "/v1/project/tokens", ApiKey, "List project tokens"),
    route(Method::POST, "/v1/project/tokens", ApiKey, "Create a project token"),
    route(Method::DELETE, "/v1/project/tokens/{token_id}", ApiKey, "Revoke a project token"),
    route(Method::GET, "/v1/project/api-keys", ApiKey, "List API keys"),
    route(Method::POST, "/v1/project/api-keys", ApiKey, "Create an API key"),
    route(Method::DELETE, "/v1/project/api-keys/{key_id}", ApiKey, "Revoke an API key"),
    route(Method::GET, "/v1/experiments", ApiKey, "List experiments"),
    route(Method::POST, "/v1/experiments", ApiKey, "Create an experiment (draft)"),
    route(Method::GET, "/v1/experiments/{id}", ApiKey, "Read an experiment"),
    route(Method::PATCH, "/v1/experiments/{id}", ApiKey, "Update an experiment"),
    route(Method::DELETE, "/v1/experiments/{id}", ApiKey, "Delete an experiment"),
    route(Method::POST, "/v1/experiments/{id}/start", ApiKey, "Start or resume an experiment"),
    route(Method::POST, "/v1/experiments/{id}/pause", ApiKey, "Pause a running experiment"),
    route(Method::POST, "/v1/experiments/{id}/complete", ApiKey, "Complete, naming the shipped"),
    route(Method::GET, "/v1/experiments/{id}/results", ApiKey, "The statistical analysis"),
    route(Method::GET, "/v1/goals", ApiKey, "List confirmed goals"),
    route(Method::POST, "/v1/goals", ApiKey, "Create a goal from a goal key or custom event"),
    route(Method::DELETE, "/v1/goals/{key}", ApiKey, "Delete a goal"),
    route(Method::GET, "/v1/goal-candidates", ApiKey, "Detected goal candidates with counts"),
    route(
        Method::POST,
        "/v1/goal-candidates/{candidate_key}/confirm",
        ApiKey,
        "Confirm a candidate as a goal",
    ),
    route(Method::POST, "/v1/auth/magic-link", Public, "Mail a sign-in link (always 202)"),
    route(Method::POST, "/v1/auth/magic-link/verify", Public, "Trade a link's token for a session"),
    route(Method::GET, "/auth/magic", Public, "Page the mailed link opens (button to sign in)"),
    route(Method::POST, "/auth/magic", Public, "Sign the browser in with a link's token"),
    route(Method::GET, "/v1/auth/github/start", Public, "Redirect to GitHub (state and PKCE)"),
    route(Method::GET, "/v1/auth/github/callback", Public, "GitHub's redirect back: sign in"),
    route(Method::POST, "/v1/auth/device/code", Public, "Start a device sign-in (RFC 8628)"),
    route(Method::POST, "/v1/auth/device/token", Public, "Poll a device sign-in (RFC 8628)"),
    route(Method::GET, "/device", Public, "Page where a person approves a device code"),
    route(Method::POST, "/device", Session, "Approve or deny a device code (form, CSRF)"),
    route(Method::POST, "/v1/auth/refresh", Public, "Rotate a refresh token for new tokens"),
    route(Method::POST, "/v1/auth/logout", Session, "End the session"),
    route(Method::GET, "/v1/auth/me", Session, "The signed-in person and their projects"),
    route(Method::GET, "/v1/projects", Session, "The signed-in person's projects"),
    route(Method::POST, "/v1/projects", Session, "Create a project owned by the person"),
    route(Method::GET, "/v1/projects/{project_id}/members", Session, "Members and invitations"),
    route(Method::POST, "/v1/projects/{project_id}/invitations", Session, "Invite by email"),
    route(Method::GET, "/v1/invitations", Session, "Invitations to the person's email"),
    route(Method::POST, "/v1/invitations/{invitation_id}/accept", Session, "Accept an invitation"),
];

/// A router under construction that remembers what it mounted.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    mounted: Vec<(Method, &'static str)>,
}

impl Routes {
    /// Mounts `handler` for `method` at `path`.
    pub fn add(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.mounted.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    /// The (method, path) pairs mounted so far.
    pub fn mounted(&self) -> &[(Method, &'static str)] {
        &self.mounted
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// The names of a path's parameters (`{id}` -> `id`).
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}')).collect()
}

/// The OpenAPI 3.1 document for [`ROUTES`].
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for spec in ROUTES {
        let mut operation = Map::new();
        operation.insert("summary".into(), spec.summary.into());
        let tag = spec.path.trim_start_matches("/v1/").split('/').next().unwrap_or("ops");
        operation.insert("tags".into(), json!([tag]));
        let security = match spec.credential {
            Public => json!([]),
            ProjectToken => json!([{ "projectToken": [] }, { "projectTokenQuery": [] },
                                   { "apiKey": [] }]),
            ApiKey => json!([{ "apiKey": [] }, { "session": [], "project": [] }]),
            Session => json!([{ "session": [] }, { "sessionCookie": [] }]),
        };
        operation.insert("security".into(), security);
        let parameters: Vec<Value> = path_parameters(spec.path)
            .into_iter()
            .map(|name| {
                json!({ "name": name, "in": "path", "required": true,
                                "schema": { "type": "string" } })
            })
            .collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), parameters.into());
        }
        if matches!(spec.method, Method::POST | Method::PATCH) {
            let mut content = json!({ "application/json": { "schema": { "type": "object" } } });
            if spec.path == "/v1/events" {
                content["text/plain"] = json!({ "schema": { "type": "string" } });
            }
            operation.insert("requestBody".into(), json!({ "content": content }));
        }
        operation.insert(
            "responses".into(),
            json!({
                "200": { "description": "Success", "content": { "application/json": {} } },
                "default": { "description": "Error",
                             "content": { "application/json": {
                                 "schema": { "$ref": "#/components/schemas/Error" } } } }
            }),
        );
        let item = paths.entry(spec.path).or_insert_with(|| json!({}));
        item[spec.method.as_str().to_ascii_lowercase()] = Value::Object(operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Vibariant API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "projectToken": { "type": "http", "scheme": "bearer",
                                  "description": "Public project token vv_proj_…" },
                "projectTokenQuery": { "type": "apiKey", "in": "query", "name": "token",
                                       "description": "The project token, for sendBeacon" },
                "apiKey": { "type": "http", "scheme": "bearer",
                            "description": "Secret API key vv_sk_…" },
                "session": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                             "description": "A person's access token (15 min)" },
                "sessionCookie": { "type": "apiKey", "in": "cookie", "name": "vv_session",
                                   "description": "The browser's session; state-changing \
                                                   calls echo the vv_csrf cookie in \
                                                   X-CSRF-Token" },
                "project": { "type": "apiKey", "in": "header", "name": "X-Vibariant-Project",
                             "description": "The project a session acts on" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": { "code": { "type": "string" },
                                        "message": { "type": "string" } } } }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_unique_and_every_path_parameter_is_documented() {
        let mut seen = std::collections::HashSet::new();
        for spec in ROUTES {
            assert!(seen.insert((spec.method.clone(), spec.path)), "{} twice", spec.path);
        }
        let document = openapi();
        let parameters = &document["paths"]["/v1/experiments/{id}"]["get"]["parameters"];
        assert_eq!(parameters[0]["name"], "id");
    }
}
