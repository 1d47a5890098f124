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

pub mod files;
pub mod jenkins;

pub use files::{FileServerHandle, serve_dir};
pub use jenkins::{JenkinsHandle, JenkinsOptions, start_jenkins};
