//! The embedded migrations and the small runner that applies them in order, once, on either
//! database. (sqlx's own migrator needs its macros; this keeps the build lean.)

use anyhow::Context as _;
use sqlx::Row as _;

use super::{DbKind, Store};
use crate::secrets::now_ms;

/// Every migration, in order: (version, name, SQL). Never edit one that has shipped; add one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/0001_initial.sql")),
    (2, "sign_in", include_str!("../../migrations/0002_sign_in.sql")),
];

/// Applies the migrations not yet recorded in `schema_migrations`.
pub(super) async fn run(store: &Store) -> anyhow::Result<()> {
    let pool = store.pool();
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;

    for &(version, name, sql) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        // Two servers starting at once on one PostgreSQL must not both migrate.
        if store.kind() == DbKind::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7318)").execute(&mut *tx).await?;
        }
        let applied = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.get::<i64, _>(0))
            .is_some();
        if applied {
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("migration {version} ({name}) failed"))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
