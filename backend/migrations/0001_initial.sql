-- The whole schema, written once for SQLite and PostgreSQL: only TEXT, BIGINT and DOUBLE
-- PRECISION columns, ids made by the application, times as milliseconds since the Unix epoch.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);

-- Public project tokens: the SHA-256 of the token, never the token itself.
CREATE TABLE project_tokens (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX project_tokens_project ON project_tokens (project_id);

-- Secret API keys, stored the same way.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE experiments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    allocation TEXT NOT NULL,
    coverage DOUBLE PRECISION NOT NULL,
    primary_goal TEXT,
    -- JSON array of proxy metric names.
    proxy_metrics TEXT NOT NULL,
    shipped_variant TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    UNIQUE (project_id, key)
);

CREATE TABLE variants (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    weight DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment_id, position),
    UNIQUE (experiment_id, name)
);

-- Server-side assignments (POST /v1/assign).
CREATE TABLE assignments (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (experiment_id, visitor_id)
);

-- Raw events, append-only. `match_key` is what a goal matches on: `goal:<key>`,
-- `custom:<name>` or `candidate:<key>`; NULL for events no goal can match.
CREATE TABLE events (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    path TEXT NOT NULL,
    experiment_key TEXT,
    variant TEXT,
    match_key TEXT,
    value DOUBLE PRECISION,
    body TEXT NOT NULL,
    PRIMARY KEY (project_id, event_id)
);
CREATE INDEX events_visitor ON events (project_id, visitor_id, ts);
CREATE INDEX events_match ON events (project_id, match_key);

-- The first exposure of a visitor to an experiment; later exposures are not counted.
CREATE TABLE exposures (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    exposed_ts BIGINT NOT NULL,
    PRIMARY KEY (experiment_id, visitor_id)
);
CREATE INDEX exposures_visitor ON exposures (project_id, visitor_id);

-- Confirmed conversion goals. A goal matches events by `match_key` (see `events`).
CREATE TABLE goals (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    match_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, key),
    UNIQUE (project_id, match_key)
);

-- Clicks and submits the core's heuristics scored as likely conversions, grouped by a stable
-- key (category and normalised label).
CREATE TABLE goal_candidates (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    candidate_key TEXT NOT NULL,
    category TEXT NOT NULL,
    event_kind TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    occurrences BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (project_id, candidate_key)
);

-- One row per visitor, goal and experiment: a conversion counts once.
CREATE TABLE conversions (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    goal_key TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    converted_ts BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (experiment_id, goal_key, visitor_id)
);

-- Per-visitor engagement while exposed, kept so the per-variant sums of squares of the
-- proxy metrics can be updated exactly as a visitor's values grow.
CREATE TABLE visitor_engagement (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment_id, visitor_id, metric)
);

-- Aggregates: exposed visitors per variant.
CREATE TABLE variant_stats (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    variant TEXT NOT NULL,
    visitors BIGINT NOT NULL,
    PRIMARY KEY (experiment_id, variant)
);

-- Aggregates: converted visitors per variant and goal.
CREATE TABLE goal_stats (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    variant TEXT NOT NULL,
    goal_key TEXT NOT NULL,
    conversions BIGINT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment_id, variant, goal_key)
);

-- Aggregates: per variant and proxy metric, the number of visitors with a value, the sum and
-- the sum of squares of their values.
CREATE TABLE metric_stats (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    variant TEXT NOT NULL,
    metric TEXT NOT NULL,
    n BIGINT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    value_sum_sq DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment_id, variant, metric)
);
