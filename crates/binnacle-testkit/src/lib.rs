//! Stand-ins for the external systems Binnacle's tools talk to, for tests (Rust and Python alike).
//!
//! [`start_jenkins`] runs a small in-memory Jenkins that answers the JSON API the Jenkins tools use: the
//! root and job `api/json` (folders, `tree=` accepted and answered with a superset), builds and the
//! `lastBuild`-style permalinks, `build` / `buildWithParameters` (201 with a queue item `Location`), queue
//! items with `executable.number`, `stop`, `submitDescription`, progressive console text
//! (`X-Text-Size`, `X-More-Data`), `config.xml`, `/crumbIssuer/api/json`, `/me/api/json` and
//! `/whoAmI/api/json`. It requires HTTP basic auth with a fixed user and API token (401 without), and on
//! every POST a crumb from the crumb issuer bound to the issuer's session cookie (403 without). It listens
//! on loopback only and stops when its [`JenkinsHandle`] is dropped.
//!
//! [`serve_dir`] serves a directory's files over HTTP, for example a Helm chart repository made with
//! `helm package` and `helm repo index`.
//!
//! [`postgres_database`] gives a test a fresh, empty PostgreSQL database: on the server named by
//! `BINNACLE_TEST_POSTGRES_URL` when set, else on a throwaway server ([`PostgresServer`]) started once per
//! test process with `initdb` and `pg_ctl`, on loopback, stopped when the process ends.
//!
//! [`start_scripted_llm`] runs a scripted LLM that speaks both wire protocols Binnacle's `binnacle-llm`
//! crate uses, streaming: OpenAI Chat Completions (`POST /v1/chat/completions` or `/chat/completions`,
//! base URL [`ScriptedLlmHandle::url`]) and Anthropic Messages (`POST /v1/messages`, base URL
//! [`ScriptedLlmHandle::anthropic_url`]). A [`Script`] (Rust values or a JSON file) lists
//! [`ScriptedConversation`]s, chosen by a substring of the request's first user message (or a fallback);
//! each holds [`Turn`]s, and turn N answers a request that already holds N assistant messages (turn 0
//! first, turn 1 after the first tool results, …; past the last, `(script exhausted)`). A turn streams
//! thinking deltas, text deltas (one per chunk) and tool calls (arguments in 2–3 fragments), then usage
//! and the stop reason, exactly as the real APIs frame them; it can first answer some HTTP errors
//! (`fail_first`, with `Retry-After`), break off with an in-stream error, or hang until the client goes.
//! Every request is recorded (protocol, path, headers, JSON body, arrival time) for assertions, and
//! listed as JSON at `GET /_requests` for tests in other languages.

pub mod files;
pub mod jenkins;
pub mod llm;
pub mod postgres;

pub use files::{FileServerHandle, serve_dir};
pub use jenkins::{JenkinsHandle, JenkinsOptions, start_jenkins};
pub use llm::{
    Protocol, RecordedRequest, Script, ScriptedConversation, ScriptedLlmHandle, ScriptedToolCall, Turn,
    serve_scripted_llm, start_scripted_llm,
};
pub use postgres::{POSTGRES_URL_ENV, PostgresServer, TestDatabase, create_database, postgres_database};
