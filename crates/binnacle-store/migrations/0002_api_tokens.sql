-- Long-lived API tokens for machines (an MCP gateway delegating to the engine, scripts): each acts as one
-- user, with that user's role; only the token's SHA-256 is kept. Revoked or expired tokens are refused.
-- No foreign key to users: deleting a user leaves its tokens unusable (the user is read on every request).
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
