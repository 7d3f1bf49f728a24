//! Projects made outside HTTP: the "local" project of a first run and `create-project`, with
//! the tokens and the copy-paste snippets printed once (the secrets are not stored in clear, so
//! they cannot be shown again).

use anyhow::Context as _;
use sqlx::Row as _;

use crate::secrets::{display_prefix, hash_secret, new_api_key, new_id, new_project_token, now_ms};
use crate::settings::Config;
use crate::store::{Store, WriteTx};

/// A freshly made project and its secrets, in clear this one time.
#[derive(Clone)]
pub struct CreatedProject {
    /// The project's id.
    pub project_id: String,
    /// Its name.
    pub name: String,
    /// The public project token.
    pub project_token: String,
    /// A secret API key.
    pub api_key: String,
}

impl std::fmt::Debug for CreatedProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedProject")
            .field("project_id", &self.project_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Creates a project with one project token and one API key.
pub async fn create_project(store: &Store, name: &str) -> anyhow::Result<CreatedProject> {
    let mut tx = store.write().await?;
    let created = create_project_in(&mut tx, name).await?;
    tx.commit().await?;
    tracing::info!(project_id = created.project_id, name = created.name, "created project");
    Ok(created)
}

/// Inserts a project with one project token and one API key into a transaction the caller
/// commits, so whatever else belongs with the project (its owner) commits with it or not at all.
pub async fn create_project_in(tx: &mut WriteTx, name: &str) -> anyhow::Result<CreatedProject> {
    let tx = &mut tx.tx;
    let name = name.trim();
    anyhow::ensure!(!name.is_empty() && name.len() <= 200, "a project name is 1 to 200 bytes");
    let project_id = new_id();
    let project_token = new_project_token();
    let api_key = new_api_key();
    let now = now_ms();

    sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&project_id)
        .bind(name)
        .bind(now)
        .execute(&mut **tx)
        .await
        .context("cannot create the project")?;
    sqlx::query(
        "INSERT INTO project_tokens (id, project_id, token_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new_id())
    .bind(&project_id)
    .bind(hash_secret(&project_token))
    .bind(display_prefix(&project_token))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO api_keys (id, project_id, name, key_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(&project_id)
    .bind("default")
    .bind(hash_secret(&api_key))
    .bind(display_prefix(&api_key))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(CreatedProject { project_id, name: name.to_owned(), project_token, api_key })
}

/// On a database without any project, creates the "local" one; otherwise does nothing.
pub async fn create_if_empty(store: &Store) -> anyhow::Result<Option<CreatedProject>> {
    let count: i64 =
        sqlx::query("SELECT COUNT(*) FROM projects").fetch_one(store.pool()).await?.try_get(0)?;
    if count > 0 {
        return Ok(None);
    }
    Ok(Some(create_project(store, "local").await?))
}

/// The text printed once for a new project: tokens and snippets to send a first event.
pub fn welcome_text(created: &CreatedProject, config: &Config) -> String {
    let base = config.base_url();
    let token = &created.project_token;
    let key = &created.api_key;
    format!(
        r#"
Vibariant project "{name}" ({id}) is ready. These are shown once; keep the API key secret.

  project token (public):  {token}
  API key (secret):        {key}

Send an event (a fresh random id each time; the same id twice counts once):

  curl -X POST '{base}/v1/events' \
    -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \
    -d '{{"events":[{{"id":"'$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')'",
         "visitor_id":"v1","ts":1733230000000,"path":"/","kind":"pageview"}}]}}'

Create an experiment:

  curl -X POST '{base}/v1/experiments' \
    -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \
    -d '{{"key":"hero-cta","primary_goal":"signup",
         "variants":[{{"name":"control"}},{{"name":"bold"}}]}}'

Or from a page, with no SDK (sendBeacon carries the token in the query string):

  <script>
    const id = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const event = {{ id, visitor_id: "visitor-1", ts: Date.now(), path: location.pathname,
                    kind: "pageview" }};
    navigator.sendBeacon("{base}/v1/events?token={token}", JSON.stringify({{ events: [event] }}));
  </script>
"#,
        name = created.name,
        id = created.project_id,
    )
}

/// Prints [`welcome_text`] to standard output (a person reads it, not a log collector).
#[allow(clippy::print_stdout, reason = "the tokens are for the person at the terminal")]
pub fn print_welcome(created: &CreatedProject, config: &Config) {
    println!("{}", welcome_text(created, config));
}
