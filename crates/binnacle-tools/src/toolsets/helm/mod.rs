//! Helm tools. Reads (list, status, history, values, manifest) decode Helm's release Secrets natively
//! through kube-rs, so they work without a helm binary. Writes and chart operations (install, upgrade,
//! rollback, uninstall, repositories, search, show values, template) drive the `helm` binary with
//! validated arguments (see [`binary`]); without helm they fail with a clear "helm is not installed"
//! while still being listed.

mod args;
pub mod binary;
mod chart_values;
mod common;
mod redact;
mod release_history;
mod release_install;
mod release_manifest;
mod release_rollback;
mod release_status;
mod release_uninstall;
mod release_upgrade;
mod release_values;
mod releases_list;
mod repo_add;
mod repo_remove;
mod repo_search;
mod repo_update;
pub mod storage;
mod template;

pub use binary::HelmEnv;

use crate::tool::{DynTool, erase};
use std::sync::Arc;

/// The Helm toolset, with helm's default environment (its own kubeconfig lookup and directories).
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    tools_with(HelmEnv::default())
}

/// The Helm toolset, with the kubeconfig and helm directories the helm binary should use. A server
/// started with `--kubeconfig FILE` should pass that file here, so that helm reaches the same clusters
/// as the other tools.
pub fn tools_with(env: HelmEnv) -> Vec<Arc<dyn DynTool>> {
    let env = Arc::new(env);
    vec![
        erase(releases_list::ReleasesList),
        erase(release_status::ReleaseStatus),
        erase(release_history::ReleaseHistory),
        erase(release_values::ReleaseValues),
        erase(release_manifest::ReleaseManifest),
        erase(release_install::Install { env: env.clone() }),
        erase(release_install::InstallWithValues { env: env.clone() }),
        erase(release_upgrade::Upgrade { env: env.clone() }),
        erase(release_rollback::Rollback { env: env.clone() }),
        erase(release_uninstall::Uninstall { env: env.clone() }),
        erase(repo_add::RepoAdd { env: env.clone() }),
        erase(repo_update::RepoUpdate { env: env.clone() }),
        erase(repo_remove::RepoRemove { env: env.clone() }),
        erase(repo_search::RepoSearch { env: env.clone() }),
        erase(chart_values::ChartValues { env: env.clone() }),
        erase(template::Template { env }),
    ]
}
