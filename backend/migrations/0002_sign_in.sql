-- Sign-in for people: identities, memberships, invitations, magic links, sessions, OAuth
-- states and device codes. Same rules as 0001: TEXT, BIGINT and DOUBLE PRECISION only, times
-- in milliseconds since the Unix epoch, every secret stored as its SHA-256 in hex.

-- External identities (GitHub) linked to a user, by the provider's stable user id.
CREATE TABLE user_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- Who may reach a project: `owner` (may invite) or `member`.
CREATE TABLE memberships (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Invitations by email; accepting needs a session of a person with that email.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    accepted_at BIGINT,
    UNIQUE (project_id, email)
);
CREATE INDEX invitations_email ON invitations (email);

-- Single-use sign-in links. `next` is a local path to return to after signing in.
CREATE TABLE magic_links (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    next_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX magic_links_email ON magic_links (email);

-- One row per signed-in client. The refresh token rotates on every use; presenting the one
-- before it (a stolen copy racing the owner) revokes the session. Access tokens name the
-- session (`sid`) and are refused once it is revoked.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    refresh_hash TEXT NOT NULL UNIQUE,
    previous_refresh_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_previous ON sessions (previous_refresh_hash);

-- GitHub authorization requests in flight: the state (hashed), the PKCE verifier, where to
-- go afterwards. Used once.
CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- RFC 8628 device authorizations. `status`: pending, approved, denied, consumed.
CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    interval_secs BIGINT NOT NULL,
    last_polled_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
