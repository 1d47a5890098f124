-- Binnacle's schema, in the SQL both SQLite and PostgreSQL accept.
--
-- Ids are TEXT (UUID v7 made by the application), timestamps BIGINT milliseconds since the epoch, JSON is
-- kept as TEXT, flags as BIGINT 0/1 (sqlx's Any driver cannot read SQLite BOOLEAN columns), money as
-- DOUBLE PRECISION. Sequence numbers (audit, messages, run events) are computed by the application.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username ON users (username);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    family_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- No foreign key to users: conversations stay, for the record, when their user is deleted.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION
);
CREATE INDEX conversations_updated ON conversations (updated_at);
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    run_id TEXT,
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_conversation_seq ON messages (conversation_id, seq);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    error TEXT,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION,
    ttft_ms BIGINT,
    steps BIGINT NOT NULL DEFAULT 0,
    owner TEXT,
    heartbeat_at BIGINT
);
CREATE INDEX runs_conversation ON runs (conversation_id, started_at);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_owner ON runs (owner);

CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id),
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE tool_calls (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    call_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    context TEXT,
    arguments TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    is_error BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    duration_ms BIGINT
);
CREATE INDEX tool_calls_run ON tool_calls (run_id, created_at);
CREATE INDEX tool_calls_conversation ON tool_calls (conversation_id, created_at);

CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    tool_call_id TEXT NOT NULL REFERENCES tool_calls (id),
    run_id TEXT NOT NULL REFERENCES runs (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    tool TEXT NOT NULL,
    context TEXT,
    arguments TEXT NOT NULL,
    preview TEXT NOT NULL,
    preview_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE INDEX approvals_run ON approvals (run_id, created_at);
CREATE INDEX approvals_conversation ON approvals (conversation_id, created_at);

-- Append-only and hash-chained (see the audit module); seq is the primary key, from 1 without gaps.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    context TEXT,
    tool TEXT,
    arguments TEXT,
    decision TEXT,
    outcome TEXT,
    run_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    credentials_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX integrations_name ON integrations (name);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
