//! The sign-in test harness: a server in production mode (a secret key, mail over SMTP,
//! GitHub at a local stand-in) or in dev mode, a real SMTP server on loopback that lettre
//! talks to over TCP, and a stand-in for GitHub's OAuth and user API speaking its exact
//! shapes.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::sync::mpsc;
use vibariant_backend::first_run::{CreatedProject, create_project};
use vibariant_backend::{AppState, Config, Store};

use crate::common::{Backend, Reply, TestDb};

/// The secret key of production-mode test servers.
pub const SECRET: &str = "a test secret key that is at least thirty-two bytes long";
/// The public URL test servers believe they have (loopback: cookies without `Secure`).
pub const PUBLIC_URL: &str = "http://127.0.0.1:8000";

/// One message the SMTP sink received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`, in order.
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed.
    pub data: String,
}

/// A minimal SMTP server: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
#[derive(Debug)]
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    received: tokio::sync::Mutex<mpsc::UnboundedReceiver<Received>>,
}

impl SmtpSink {
    /// Listens on a loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let addr = listener.local_addr().expect("SMTP address");
        let (sender, received) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sender = sender.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, sender).await;
                });
            }
        });
        SmtpSink { addr, received: tokio::sync::Mutex::new(received) }
    }

    /// The next message, waiting up to 10 s.
    pub async fn next(&self) -> Received {
        let mut received = self.received.lock().await;
        tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .expect("a mail within 10 s")
            .expect("the SMTP sink is running")
    }

    /// True when no message arrives within `wait`.
    pub async fn quiet_for(&self, wait: Duration) -> bool {
        let mut received = self.received.lock().await;
        tokio::time::timeout(wait, received.recv()).await.is_err()
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    sender: mpsc::UnboundedSender<Received>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command.split([' ', ':']).next().unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?,
            "HELO" => write.write_all(b"250 sink.test\r\n").await?,
            "MAIL" => {
                from = address_in(&command);
                to.clear();
                write.write_all(b"250 2.1.0 OK\r\n").await?;
            }
            "RCPT" => {
                to.push(address_in(&command));
                write.write_all(b"250 2.1.5 OK\r\n").await?;
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let _ = sender.send(Received { from: from.clone(), to: to.clone(), data });
                write.write_all(b"250 2.0.0 queued\r\n").await?;
            }
            "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 not implemented\r\n").await?,
        }
    }
}

fn address_in(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..].find('>').map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

/// The sign-in link in a mail, undoing quoted-printable soft breaks if the mailer used them.
pub fn link_in(mail: &Received) -> String {
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    let start = text.find("http://").expect("a link in the mail");
    text[start..].split_whitespace().next().expect("a link").to_owned()
}

/// A GitHub account the stand-in signs in as.
#[derive(Debug, Clone)]
pub struct GithubAccount {
    /// GitHub's numeric user id.
    pub id: i64,
    /// The login.
    pub login: String,
    /// (email, primary, verified).
    pub emails: Vec<(String, bool, bool)>,
}

#[derive(Debug, Default)]
struct StandInState {
    account: Option<GithubAccount>,
    /// code -> (PKCE challenge, redirect_uri, account, used)
    codes: HashMap<String, (String, String, GithubAccount, bool)>,
    tokens: HashMap<String, GithubAccount>,
}

/// A local stand-in for github.com's OAuth endpoints and api.github.com's user API.
#[derive(Debug, Clone)]
pub struct GithubStandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<Mutex<StandInState>>,
}

/// The client id and secret the stand-in accepts.
pub const GITHUB_CLIENT_ID: &str = "Iv1.test-client";
/// See [`GITHUB_CLIENT_ID`].
pub const GITHUB_CLIENT_SECRET: &str = "test-client-secret";

type Shared = Arc<Mutex<StandInState>>;

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(State(shared): State<Shared>, Query(query): Query<AuthorizeQuery>) -> Response {
    let mut stand_in = shared.lock().unwrap();
    let Some(account) = stand_in.account.clone() else {
        return (StatusCode::FORBIDDEN, "nobody is signed in to the stand-in").into_response();
    };
    if query.client_id != GITHUB_CLIENT_ID || query.code_challenge_method != "S256" {
        return (StatusCode::BAD_REQUEST, "bad client or PKCE method").into_response();
    }
    let code = vibariant_backend::secrets::new_id()[..20].to_owned();
    stand_in
        .codes
        .insert(code.clone(), (query.code_challenge, query.redirect_uri.clone(), account, false));
    let query = serde_urlencoded::to_string([("code", code.as_str()), ("state", &query.state)])
        .expect("a query");
    Redirect::to(&format!("{}?{query}", query_target(&stand_in, &code))).into_response()
}

fn query_target(stand_in: &StandInState, code: &str) -> String {
    stand_in.codes[code].1.clone()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    client_id: String,
    client_secret: String,
    code: String,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
}

async fn access_token(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    assert_eq!(
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "the server must ask GitHub for JSON"
    );
    let mut stand_in = shared.lock().unwrap();
    // GitHub answers every failure of this endpoint with 200 and an `error` field.
    let refuse = |error: &str| {
        axum::Json(json!({ "error": error, "error_description": "refused by the stand-in",
                           "error_uri": "https://docs.github.com/apps" }))
        .into_response()
    };
    if form.client_id != GITHUB_CLIENT_ID || form.client_secret != GITHUB_CLIENT_SECRET {
        return refuse("incorrect_client_credentials");
    }
    let Some((challenge, redirect_uri, account, used)) = stand_in.codes.get_mut(&form.code) else {
        return refuse("bad_verification_code");
    };
    if *used {
        return refuse("bad_verification_code");
    }
    *used = true;
    if form.redirect_uri.as_deref() != Some(redirect_uri.as_str()) {
        return refuse("redirect_uri_mismatch");
    }
    let verifier = form.code_verifier.unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != *challenge {
        return refuse("bad_verification_code");
    }
    let account = account.clone();
    let token = format!("gho_{}", vibariant_backend::secrets::new_id());
    stand_in.tokens.insert(token.clone(), account);
    axum::Json(json!({ "access_token": token, "token_type": "bearer",
                       "scope": "read:user,user:email" }))
    .into_response()
}

fn account_for(shared: &Shared, headers: &HeaderMap) -> Option<GithubAccount> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("token "))?;
    shared.lock().unwrap().tokens.get(token).cloned()
}

fn bad_credentials() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "message": "Bad credentials",
                           "documentation_url": "https://docs.github.com/rest" })),
    )
        .into_response()
}

async fn user(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let Some(account) = account_for(&shared, &headers) else { return bad_credentials() };
    axum::Json(json!({ "login": account.login, "id": account.id, "type": "User",
                       "name": null, "email": null }))
    .into_response()
}

async fn user_emails(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let Some(account) = account_for(&shared, &headers) else { return bad_credentials() };
    let emails: Vec<Value> = account
        .emails
        .iter()
        .map(|(email, primary, verified)| {
            json!({ "email": email, "primary": primary, "verified": verified,
                    "visibility": if *primary { json!("private") } else { json!(null) } })
        })
        .collect();
    axum::Json(emails).into_response()
}

impl GithubStandIn {
    /// Listens on a loopback port.
    pub async fn start() -> Self {
        let state: Shared = Arc::default();
        let app = axum::Router::new()
            .route("/login/oauth/authorize", axum::routing::get(authorize))
            .route("/login/oauth/access_token", axum::routing::post(access_token))
            .route("/user", axum::routing::get(user))
            .route("/user/emails", axum::routing::get(user_emails))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind GitHub");
        let addr = listener.local_addr().expect("GitHub address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        GithubStandIn { addr, state }
    }

    /// Signs `account` in at the stand-in; the next authorization is theirs.
    pub fn sign_in_as(&self, account: GithubAccount) {
        self.state.lock().unwrap().account = Some(account);
    }

    /// The stand-in's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Whether the server under test has a secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `VIBARIANT_SECRET_KEY` set: mail over SMTP, device codes wait for a person.
    Production,
    /// No secret key: links in the log, device codes approved at once.
    Dev,
}

/// A server configured for sign-in, with its SMTP sink and GitHub stand-in.
#[derive(Debug)]
pub struct AuthServer {
    /// Shared state.
    pub state: AppState,
    /// A project made for the test (no owner).
    pub project: CreatedProject,
    /// Receives the server's mail.
    pub smtp: SmtpSink,
    /// Plays GitHub.
    pub github: GithubStandIn,
    /// Keeps the database until the test ends.
    pub db: TestDb,
}

/// A signed-in person as the tests hold them.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The user id.
    pub user_id: String,
    /// The JWT access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
}

impl AuthServer {
    /// Starts a server on `backend` in `mode`; `None` when the backend is not configured.
    pub async fn start(backend: Backend, mode: Mode) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let smtp = SmtpSink::start().await;
        let github = GithubStandIn::start().await;
        let store = Store::connect(&db.url).await.expect("open the test database");
        let project = create_project(&store, "test").await.expect("a test project");
        let smtp_url = format!("smtp://{}", smtp.addr);
        let github_url = github.url();
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(db.url.clone()),
            "VIBARIANT_ADDR" => Some("127.0.0.1:0".into()),
            "VIBARIANT_PUBLIC_URL" => Some(PUBLIC_URL.into()),
            "VIBARIANT_SECRET_KEY" if mode == Mode::Production => Some(SECRET.into()),
            "VIBARIANT_SMTP_URL" => Some(smtp_url.clone()),
            "VIBARIANT_MAIL_FROM" => Some("Vibariant <sign-in@vibariant.test>".into()),
            "VIBARIANT_GITHUB_CLIENT_ID" => Some(GITHUB_CLIENT_ID.into()),
            "VIBARIANT_GITHUB_CLIENT_SECRET" => Some(GITHUB_CLIENT_SECRET.into()),
            "VIBARIANT_GITHUB_AUTHORIZE_URL" => Some(format!("{github_url}/login/oauth/authorize")),
            "VIBARIANT_GITHUB_TOKEN_URL" => Some(format!("{github_url}/login/oauth/access_token")),
            "VIBARIANT_GITHUB_API_URL" => Some(github_url.clone()),
            _ => None,
        })
        .expect("a test config");
        let state = AppState::new(store, config);
        Some(AuthServer { state, project, smtp, github, db })
    }

    /// Sends a request through the router in process.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        use tower::ServiceExt as _;
        let response =
            vibariant_backend::app(self.state.clone()).oneshot(request).await.expect("answer");
        Reply::read(response).await
    }

    /// A request with extra headers and a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("a request")).await
    }

    /// A form post with extra headers.
    pub async fn form(&self, path: &str, headers: &[(&str, &str)], form: &[(&str, &str)]) -> Reply {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = serde_urlencoded::to_string(form).expect("a form");
        self.send(builder.body(Body::from(body)).expect("a request")).await
    }

    /// Asks for a magic link for `email` and returns the link received over SMTP.
    pub async fn mailed_link(&self, email: &str) -> String {
        let asked = self
            .call(Method::POST, "/v1/auth/magic-link", &[], Some(json!({ "email": email })))
            .await;
        assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
        let mail = self.smtp.next().await;
        assert_eq!(mail.to, vec![email.to_owned()]);
        link_in(&mail)
    }

    /// Signs `email` in through a mailed link and the JSON verify endpoint.
    pub async fn sign_in(&self, email: &str) -> Signed {
        let link = self.mailed_link(email).await;
        let token = link.split("token=").nth(1).expect("a token in the link").to_owned();
        let verified = self
            .call(Method::POST, "/v1/auth/magic-link/verify", &[], Some(json!({ "token": token })))
            .await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
        let access = verified.json["access_token"].as_str().expect("an access token").to_owned();
        let me = self
            .call(Method::GET, "/v1/auth/me", &[("authorization", &bearer(&access))], None)
            .await;
        Signed {
            user_id: me.json["user"]["id"].as_str().expect("a user id").to_owned(),
            access,
            refresh: verified.json["refresh_token"].as_str().expect("a refresh token").to_owned(),
        }
    }
}

/// `Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The `name=value` pairs a response sets as cookies, and each full `Set-Cookie` line.
pub fn set_cookies(reply: &Reply) -> Vec<(String, String, String)> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|line| {
            let pair = line.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.to_owned(), value.to_owned(), line.to_owned()))
        })
        .collect()
}

/// A `Cookie` header carrying every cookie a response set.
pub fn cookie_header(reply: &Reply) -> String {
    set_cookies(reply)
        .iter()
        .map(|(name, value, _)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs `test` on `backend` in `mode` when the backend is available.
pub async fn run_on<F, Fut>(backend: Backend, mode: Mode, test: F)
where
    F: FnOnce(AuthServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = AuthServer::start(backend, mode).await {
        test(server).await;
    }
}

/// Declares `name::sqlite` and `name::postgres` tests for `async fn name(AuthServer)`.
#[macro_export]
macro_rules! auth_tests {
    ($mode:ident: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::auth_support::run_on(
                    $crate::common::Backend::Sqlite,
                    $crate::auth_support::Mode::$mode,
                    super::$name,
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::auth_support::run_on(
                    $crate::common::Backend::Postgres,
                    $crate::auth_support::Mode::$mode,
                    super::$name,
                )
                .await;
            }
        }
    )*};
}
