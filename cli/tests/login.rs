//! The `vibariant` binary against the real backend, served in process on a loopback socket
//! over a fresh SQLite file: sign-in in dev mode and with a person approving or denying in
//! a second session, sign-out, and the silent renewal of an expired access token.
//!
//! Each test has its own settings directory (`VIBARIANT_CONFIG_DIR`), so they run in parallel.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use vibariant_backend::secrets::{hash_secret, new_id, now_ms};
use vibariant_backend::{AppState, Config};

/// Long enough for the backend (at least 32 bytes); turns dev mode off.
const SECRET_KEY: &str = "a test secret key that is long enough for HS256";
const DEV_EMAIL: &str = "dev@localhost.localdomain";

/// A backend on a loopback port, with a scratch directory for its database and the CLI's
/// settings; both go away with it.
struct Server {
    url: String,
    state: AppState,
    scratch: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

impl Server {
    /// Starts a server; `secret_key` None is dev mode (device codes approved at once).
    async fn start(secret_key: Option<&str>) -> Server {
        let scratch = std::env::temp_dir().join(format!("vibariant-cli-test-{}", new_id()));
        std::fs::create_dir_all(&scratch).expect("a scratch directory");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("a local address");
        let url = format!("http://{addr}");
        let database = format!("sqlite://{}?mode=rwc", scratch.join("test.sqlite3").display());
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(database.clone()),
            "VIBARIANT_ADDR" => Some(addr.to_string()),
            "VIBARIANT_PUBLIC_URL" => Some(url.clone()),
            "VIBARIANT_SECRET_KEY" => secret_key.map(str::to_owned),
            _ => None,
        })
        .expect("a test config");
        let state = vibariant_backend::prepare(config).await.expect("the backend starts");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(vibariant_backend::serve_on(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Server { url, state, scratch, stop: Some(stop) }
    }

    /// The CLI's settings directory for this test (not created: the CLI makes it).
    fn config_dir(&self) -> PathBuf {
        self.scratch.join("vibariant-config")
    }

    fn settings(&self) -> Value {
        let text = std::fs::read(self.config_dir().join("config.json")).expect("a settings file");
        serde_json::from_slice(&text).expect("settings are JSON")
    }

    fn write_settings(&self, settings: &Value) {
        std::fs::write(self.config_dir().join("config.json"), settings.to_string())
            .expect("write settings");
    }

    /// The `vibariant` binary, pointed at this test's settings and server.
    fn vibariant(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vibariant"));
        command
            .args(args)
            .env("VIBARIANT_CONFIG_DIR", self.config_dir())
            .env("VIBARIANT_URL", &self.url)
            .env_remove("VIBARIANT_LOG")
            .stdin(Stdio::null());
        command
    }

    /// Runs the binary to the end without blocking the server's runtime.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.vibariant(args);
        tokio::task::spawn_blocking(move || command.output().expect("run vibariant"))
            .await
            .expect("the runner thread")
    }

    /// A second person's bearer token for `email`, signed in through the magic-link verify
    /// API. The link is put in the database directly: this server has no mail to read it from.
    async fn person(&self, email: &str) -> String {
        // The shape of a mailed token: 32 random bytes in hex.
        let token = format!("{}{}", new_id(), new_id());
        sqlx::query(
            "INSERT INTO magic_links (token_hash, email, next_path, created_at, expires_at) \
             VALUES ($1, $2, NULL, $3, $4)",
        )
        .bind(hash_secret(&token))
        .bind(email)
        .bind(now_ms())
        .bind(now_ms() + 600_000)
        .execute(self.state.store().pool())
        .await
        .expect("insert a magic link");
        let verified = reqwest::Client::new()
            .post(format!("{}/v1/auth/magic-link/verify", self.url))
            .json(&json!({ "token": token }))
            .send()
            .await
            .expect("verify the link");
        assert_eq!(verified.status(), 200);
        let body: Value = verified.json().await.expect("tokens");
        body["access_token"].as_str().expect("an access token").to_owned()
    }

    /// The person approves or denies `user_code` on the device page, as its form does.
    async fn decide(&self, bearer: &str, user_code: &str, action: &str) {
        let answer = reqwest::Client::new()
            .post(format!("{}/device", self.url))
            .bearer_auth(bearer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("user_code={user_code}&action={action}"))
            .send()
            .await
            .expect("post the device form");
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap_or_default());
    }

    /// `GET /v1/auth/me` with a token, outside the CLI; returns the status.
    async fn me_status(&self, access_token: &str) -> u16 {
        reqwest::Client::new()
            .get(format!("{}/v1/auth/me", self.url))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("call /me")
            .status()
            .as_u16()
    }
}

fn stdout_json(output: &Output) -> Value {
    assert!(output.status.success(), "vibariant failed: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not one JSON object ({error}): {:?}", output))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// A `vibariant login` running in the background, with the user code it printed.
struct PendingLogin {
    user_code: String,
    child: std::process::Child,
    stderr: std::thread::JoinHandle<String>,
}

impl PendingLogin {
    /// Starts `vibariant login` and waits until it shows the code to approve.
    async fn start(server: &Server, args: &[&str]) -> PendingLogin {
        let mut child = server
            .vibariant(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vibariant login");
        let stderr = child.stderr.take().expect("piped stderr");
        let (found, code) = tokio::sync::oneshot::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut found = Some(found);
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                if let Some((_, rest)) = line.split_once("approve the code ") {
                    let code = rest.trim_end_matches(':').to_owned();
                    if let Some(found) = found.take() {
                        let _ = found.send(code);
                    }
                }
            }
            all
        });
        let user_code = tokio::time::timeout(std::time::Duration::from_secs(30), code)
            .await
            .expect("the CLI shows a code within 30 s")
            .expect("the CLI shows a code");
        PendingLogin { user_code, child, stderr: reader }
    }

    /// Waits for the CLI to finish: (output with stdout, everything it wrote to stderr).
    async fn finish(self) -> (Output, String) {
        let child = self.child;
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("the waiting thread")
            .expect("vibariant exits");
        (output, self.stderr.join().expect("the stderr reader"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_login_stores_exactly_the_session_in_a_0600_file_and_whoami_names_the_dev() {
    let server = Server::start(None).await;
    let mut login = server.vibariant(&["login", "--json"]);
    // Debug logs on: they must not carry a token either.
    login.env("VIBARIANT_LOG", "debug");
    let output = tokio::task::spawn_blocking(move || login.output().expect("run login"))
        .await
        .expect("the runner thread");
    let signed_in = stdout_json(&output);
    assert_eq!(signed_in["email"], DEV_EMAIL);
    assert_eq!(signed_in["server"], server.url.as_str());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("/device?user_code="), "the person is shown the page: {stderr}");

    let settings = server.settings();
    let mut keys: Vec<&str> = settings.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "email", "expires_at", "refresh_token", "server"]);
    assert_eq!(settings["server"], server.url.as_str());
    assert_eq!(settings["email"], DEV_EMAIL);
    let access = settings["access_token"].as_str().unwrap();
    let refresh = settings["refresh_token"].as_str().unwrap();
    assert!(access.starts_with("eyJ") && refresh.starts_with("vv_rt_"));
    let expires_at = settings["expires_at"].as_u64().unwrap();
    let now = u64::try_from(now_ms() / 1000).unwrap();
    assert!(expires_at > now && expires_at <= now + 15 * 60, "{expires_at} vs {now}");
    for printed in [text(&output.stdout), stderr] {
        assert!(!printed.contains(access) && !printed.contains(refresh), "a token leaked");
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&server.config_dir().join("config.json")), 0o600);
        assert_eq!(mode(&server.config_dir()), 0o700);
    }

    let whoami = stdout_json(&server.run(&["whoami", "--json"]).await);
    assert_eq!(whoami["email"], DEV_EMAIL);
    assert_eq!(whoami["server"], server.url.as_str());
    let human = server.run(&["whoami"]).await;
    assert!(human.status.success());
    assert!(text(&human.stdout).contains(&format!("Signed in to {} as {DEV_EMAIL}.", server.url)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_waits_for_a_person_to_approve_in_the_browser_and_stops_when_they_deny() {
    let server = Server::start(Some(SECRET_KEY)).await;
    let grace = server.person("grace@example.com").await;

    let pending = PendingLogin::start(&server, &["login", "--json"]).await;
    assert_eq!(pending.user_code.len(), 9, "{}", pending.user_code);
    // The CLI is polling now (its first poll goes out at once, before anyone approves).
    server.decide(&grace, &pending.user_code, "approve").await;
    let (output, stderr) = pending.finish().await;
    let signed_in = stdout_json(&output);
    assert_eq!(signed_in["email"], "grace@example.com", "{stderr}");
    assert!(stderr.contains(&format!("{}/device?user_code=", server.url)), "{stderr}");
    let whoami = stdout_json(&server.run(&["whoami", "--json"]).await);
    assert_eq!(whoami["email"], "grace@example.com");

    // A second sign-in, denied: a failure that says so, and the stored session is untouched.
    let before = server.settings();
    let pending = PendingLogin::start(&server, &["login"]).await;
    server.decide(&grace, &pending.user_code, "deny").await;
    let (output, stderr) = pending.finish().await;
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing on stdout after a failure");
    assert!(
        stderr.contains("error: cannot sign in: the sign-in was denied in the browser"),
        "{stderr}"
    );
    assert_eq!(server.settings(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_keeps_other_settings_and_whoami_then_says_not_signed_in() {
    let server = Server::start(None).await;
    stdout_json(&server.run(&["login", "--json"]).await);
    let mut settings = server.settings();
    let old_access = settings["access_token"].as_str().unwrap().to_owned();
    settings["editor"] = json!("vim");
    server.write_settings(&settings);

    let logout = stdout_json(&server.run(&["logout", "--json"]).await);
    assert_eq!(
        logout,
        json!({ "server": server.url, "signed_out": true, "was_signed_in": true,
                "server_reached": true })
    );
    assert_eq!(server.settings(), json!({ "server": server.url, "editor": "vim" }));
    assert_eq!(server.me_status(&old_access).await, 401, "the server ended the session");

    let whoami = server.run(&["whoami"]).await;
    assert!(!whoami.status.success());
    assert!(whoami.stdout.is_empty());
    let stderr = text(&whoami.stderr);
    assert_eq!(
        stderr.trim(),
        format!(
            "error: cannot tell who you are: not signed in to {}; run `vibariant login` first",
            server.url
        )
    );
    let again = server.run(&["logout"]).await;
    assert!(again.status.success(), "signing out twice is fine");
    assert!(text(&again.stdout).contains("Not signed in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_forgets_the_tokens_and_says_so_when_the_server_is_unreachable() {
    let server = Server::start(None).await;
    stdout_json(&server.run(&["login", "--json"]).await);
    // Point the stored session at a port nobody listens on (bound, then released).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gone = format!("http://{closed}");
    let mut settings = server.settings();
    settings["server"] = json!(gone);
    server.write_settings(&settings);

    let mut logout = server.vibariant(&["logout"]);
    logout.env("VIBARIANT_URL", &gone);
    let output = tokio::task::spawn_blocking(move || logout.output().unwrap()).await.unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let said = text(&output.stdout);
    assert!(said.contains("the server did not answer") && said.contains(&gone), "{said}");
    assert!(said.contains("stays valid on the server"), "{said}");
    assert_eq!(server.settings(), json!({ "server": gone }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_renewed_once_and_the_rotated_pair_is_stored() {
    let server = Server::start(Some(SECRET_KEY)).await;
    let ada = server.person("ada@example.com").await;
    let pending = PendingLogin::start(&server, &["login"]).await;
    server.decide(&ada, &pending.user_code, "approve").await;
    let (output, stderr) = pending.finish().await;
    assert!(output.status.success(), "{stderr}");
    let whoami = stdout_json(&server.run(&["whoami", "--json"]).await);

    // An access token for the same session that expired an hour ago, signed with the
    // server's key: the server answers 401 "expired", as it would after 15 minutes.
    let issued_at = now_ms() / 1000 - 3600;
    let expired = vibariant_backend::auth::jwt::issue(
        server.state.sign_in().secret(),
        whoami["user_id"].as_str().unwrap(),
        whoami["session_id"].as_str().unwrap(),
        issued_at,
    );
    assert_eq!(server.me_status(&expired).await, 401);
    let mut settings = server.settings();
    let old_refresh = settings["refresh_token"].as_str().unwrap().to_owned();
    settings["access_token"] = json!(expired);
    server.write_settings(&settings);

    let renewed = stdout_json(&server.run(&["whoami", "--json"]).await);
    assert_eq!(renewed["email"], "ada@example.com");
    assert_eq!(renewed["session_id"], whoami["session_id"], "the same session, renewed");
    let stored = server.settings();
    let new_access = stored["access_token"].as_str().unwrap();
    assert_ne!(new_access, expired);
    assert_ne!(stored["refresh_token"].as_str().unwrap(), old_refresh, "the pair rotated");
    assert_eq!(server.me_status(new_access).await, 200);
    #[cfg(unix)]
    assert_eq!(mode(&server.config_dir().join("config.json")), 0o600);

    // Both tokens dead (the refresh token replaced by one the server never issued): one
    // clear sentence, not a loop.
    let mut settings = server.settings();
    settings["access_token"] = json!(expired);
    settings["refresh_token"] = json!("vv_rt_never_issued");
    server.write_settings(&settings);
    let ended = server.run(&["whoami"]).await;
    assert!(!ended.status.success());
    let stderr = text(&ended.stderr);
    assert!(stderr.contains("has ended") && stderr.contains("run `vibariant login`"), "{stderr}");
}
