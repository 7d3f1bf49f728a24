//! People and projects: accounts by email, projects owned by a person, members and
//! invitations by email. A session reaches a project only through a membership row; the
//! project routes check it for the exact project a request names.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row as _;

use super::mail::Mail;
use super::session::Person;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secrets::{new_id, now_ms};
use crate::state::AppState;
use crate::store::WriteTx;

/// A member who may invite others and manage members.
pub const OWNER: &str = "owner";
/// A member with full access to the project's data.
pub const MEMBER: &str = "member";

/// An email address in the form accounts are keyed by (trimmed, lowercase), or an error if
/// it cannot be an address.
pub fn normalize_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.contains(char::is_whitespace)
        && !email.contains(['<', '>', ',', ';', '"']);
    if valid { Ok(email) } else { Err(ApiError::Unprocessable("not an email address".into())) }
}

/// The id of the user with `email`, made on first use.
pub async fn user_for_email(state: &AppState, email: &str) -> ApiResult<String> {
    let mut tx = state.store().write().await?;
    sqlx::query(
        "INSERT INTO users (id, email, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(new_id())
    .bind(email)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    let id: String = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    tx.commit().await?;
    Ok(id)
}

/// The role of `user_id` in `project_id`, if a member.
pub async fn role_in(
    state: &AppState,
    user_id: &str,
    project_id: &str,
) -> ApiResult<Option<String>> {
    Ok(sqlx::query("SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2")
        .bind(project_id)
        .bind(user_id)
        .fetch_optional(state.store().pool())
        .await?
        .map(|row| row.get(0)))
}

/// Fails with 404 (as if the project did not exist) unless `user_id` is a member.
pub async fn require_member(
    state: &AppState,
    user_id: &str,
    project_id: &str,
) -> ApiResult<String> {
    role_in(state, user_id, project_id).await?.ok_or_else(|| ApiError::not_found("project"))
}

/// The projects `user_id` belongs to, with their role.
pub async fn projects_of(state: &AppState, user_id: &str) -> ApiResult<Vec<Value>> {
    let rows = sqlx::query(
        "SELECT p.id, p.name, m.role, p.created_at FROM memberships m \
         JOIN projects p ON p.id = m.project_id WHERE m.user_id = $1 ORDER BY p.created_at, p.id",
    )
    .bind(user_id)
    .fetch_all(state.store().pool())
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            json!({ "id": row.get::<String, _>(0), "name": row.get::<String, _>(1),
                    "role": row.get::<String, _>(2), "created_at": row.get::<i64, _>(3) })
        })
        .collect())
}

/// Makes `user_id` the owner of an existing project.
pub async fn make_owner(state: &AppState, user_id: &str, project_id: &str) -> ApiResult<()> {
    let mut tx = state.store().write().await?;
    set_owner(&mut tx, user_id, project_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Records `user_id` as the owner of `project_id` inside the caller's transaction.
async fn set_owner(tx: &mut WriteTx, user_id: &str, project_id: &str) -> Result<(), sqlx::Error> {
    let tx = &mut tx.tx;
    sqlx::query("UPDATE projects SET owner_user_id = $1 WHERE id = $2")
        .bind(user_id)
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO memberships (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = $3",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(OWNER)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `GET /v1/projects`: the signed-in person's projects.
pub async fn list_projects(
    State(state): State<AppState>,
    person: Person,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "projects": projects_of(&state, &person.user_id).await? })))
}

/// The body of `POST /v1/projects`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// The display name.
    pub name: String,
}

/// `POST /v1/projects`: a project owned by the signed-in person, with a public token and an
/// API key shown once.
pub async fn create_project(
    State(state): State<AppState>,
    person: Person,
    ApiJson(body): ApiJson<NewProject>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::Unprocessable("a project name is 1 to 200 bytes".into()));
    }
    // The project and its owner commit together: a crash in between must not leave a project
    // nobody owns.
    let mut tx = state.store().write().await?;
    let created = crate::first_run::create_project_in(&mut tx, name).await?;
    set_owner(&mut tx, &person.user_id, &created.project_id).await?;
    tx.commit().await?;
    tracing::info!(project_id = created.project_id, owner = person.user_id, "created project");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": created.project_id, "name": created.name, "role": OWNER,
                     "project_token": created.project_token, "api_key": created.api_key })),
    ))
}

/// `GET /v1/projects/{project_id}/members`: members and pending invitations (any member).
pub async fn list_members(
    State(state): State<AppState>,
    person: Person,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    require_member(&state, &person.user_id, &project_id).await?;
    let pool = state.store().pool();
    let members = sqlx::query(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY m.created_at, u.id",
    )
    .bind(&project_id)
    .fetch_all(pool)
    .await?;
    let invitations = sqlx::query(
        "SELECT id, email, created_at FROM invitations \
         WHERE project_id = $1 AND accepted_at IS NULL ORDER BY created_at, id",
    )
    .bind(&project_id)
    .fetch_all(pool)
    .await?;
    Ok(Json(json!({
        "members": members.iter().map(|row| json!({
            "user_id": row.get::<String, _>(0), "email": row.get::<String, _>(1),
            "role": row.get::<String, _>(2), "since": row.get::<i64, _>(3) })).collect::<Vec<_>>(),
        "invitations": invitations.iter().map(|row| json!({
            "id": row.get::<String, _>(0), "email": row.get::<String, _>(1),
            "created_at": row.get::<i64, _>(2) })).collect::<Vec<_>>(),
    })))
}

/// The body of `POST /v1/projects/{project_id}/invitations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Who to invite.
    pub email: String,
}

/// `POST /v1/projects/{project_id}/invitations`: the owner invites someone by email.
pub async fn invite(
    State(state): State<AppState>,
    person: Person,
    Path(project_id): Path<String>,
    ApiJson(body): ApiJson<NewInvitation>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role = require_member(&state, &person.user_id, &project_id).await?;
    if role != OWNER {
        return Err(ApiError::Forbidden("only the project's owner can invite".into()));
    }
    let email = normalize_email(&body.email)?;
    let id = new_id();
    let mut tx = state.store().write().await?;
    let inserted = sqlx::query(
        "INSERT INTO invitations (id, project_id, email, invited_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, email) DO NOTHING",
    )
    .bind(&id)
    .bind(&project_id)
    .bind(&email)
    .bind(&person.user_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if inserted == 0 {
        return Err(ApiError::Conflict("this address is already invited".into()));
    }
    let base = state.config().base_url();
    state.sign_in().mailer.send_later(Mail {
        to: email.clone(),
        subject: "You are invited to a Vibariant project".into(),
        body: format!(
            "{inviter} invited you to a Vibariant project.\n\nSign in with this address \
             ({email}) at {base}/device or with `vibariant login`, then accept the \
             invitation (POST {base}/v1/invitations/{id}/accept).\n",
            inviter = person.email
        ),
    });
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "email": email }))))
}

/// `GET /v1/invitations`: pending invitations to the signed-in person's email.
pub async fn my_invitations(
    State(state): State<AppState>,
    person: Person,
) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT i.id, i.project_id, p.name, i.created_at FROM invitations i \
         JOIN projects p ON p.id = i.project_id \
         WHERE i.email = $1 AND i.accepted_at IS NULL ORDER BY i.created_at, i.id",
    )
    .bind(&person.email)
    .fetch_all(state.store().pool())
    .await?;
    let invitations: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({ "id": row.get::<String, _>(0), "project_id": row.get::<String, _>(1),
                    "project_name": row.get::<String, _>(2), "created_at": row.get::<i64, _>(3) })
        })
        .collect();
    Ok(Json(json!({ "invitations": invitations })))
}

/// `POST /v1/invitations/{invitation_id}/accept`: joins the project, if the invitation was
/// sent to the signed-in person's email (otherwise 404, as if it did not exist).
pub async fn accept(
    State(state): State<AppState>,
    person: Person,
    Path(invitation_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = now_ms();
    let mut tx = state.store().write().await?;
    let row = sqlx::query(
        "UPDATE invitations SET accepted_at = $1 \
         WHERE id = $2 AND email = $3 AND accepted_at IS NULL RETURNING project_id",
    )
    .bind(now)
    .bind(&invitation_id)
    .bind(&person.email)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ApiError::not_found("invitation"))?;
    let project_id: String = row.get(0);
    sqlx::query(
        "INSERT INTO memberships (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project_id, user_id) DO NOTHING",
    )
    .bind(&project_id)
    .bind(&person.user_id)
    .bind(MEMBER)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %person.user_id, project_id, "invitation accepted");
    Ok(Json(json!({ "project_id": project_id, "role": MEMBER })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "@example.com", "ada@example", "a b@example.com", "a@x.com>"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
