//! Storage: one connection pool over SQLite or PostgreSQL (sqlx's `Any` driver), the embedded
//! migrations, and write transactions that respect SQLite's single writer.
//!
//! Every query is written once in the SQL both databases accept: `$1` placeholders, `ON
//! CONFLICT`, `RETURNING`, and only TEXT, BIGINT and DOUBLE PRECISION columns.

pub mod audit;
mod migrate;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor as _, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database the pool talks to; a few statements differ (locking, retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// A SQLite file in WAL mode.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The database: a pool, its kind, and the writer lock SQLite needs.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    kind: DbKind,
    /// SQLite allows one writer; taking this lock before a write transaction turns lock
    /// contention (and its `SQLITE_BUSY` failures on upgrade) into an orderly queue. Unused on
    /// PostgreSQL, where row locks do the job.
    writer: Arc<Mutex<()>>,
}

/// An open write transaction; on SQLite it also holds the writer lock until it ends.
#[derive(Debug)]
pub struct WriteTx {
    /// The transaction; dropped (rolled back) before the lock is released.
    pub tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits the transaction, then releases the writer lock.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Store {
    /// Connects to `database_url` (`sqlite:…` or `postgres:…`) and applies the migrations.
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        install_default_drivers();
        let kind = if database_url.starts_with("sqlite:") {
            DbKind::Sqlite
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            DbKind::Postgres
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:");
        };

        let options = match kind {
            // WAL lets readers work while the writer commits; `synchronous = NORMAL` keeps every
            // committed transaction through a process crash (the WAL is written at commit) and
            // only defers the fsync, which matters for power loss alone.
            DbKind::Sqlite => AnyPoolOptions::new().max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            DbKind::Postgres => AnyPoolOptions::new().max_connections(10),
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(10))
            .connect(database_url)
            .await
            .context("cannot connect to the database")?;
        let store = Store { pool, kind, writer: Arc::new(Mutex::new(())) };
        migrate::run(&store).await.context("cannot apply the database migrations")?;
        Ok(store)
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Begins a write transaction (on SQLite, after taking the writer lock).
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let writer = match self.kind {
            DbKind::Sqlite => Some(self.writer.clone().lock_owned().await),
            DbKind::Postgres => None,
        };
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _writer: writer })
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True when a database error is a transient conflict worth retrying the whole transaction for
/// (a PostgreSQL deadlock or serialization failure, or SQLite still busy after its timeout).
pub fn is_retryable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("40P01" | "40001" | "5" | "6" | "517"))
        }
        _ => false,
    }
}
