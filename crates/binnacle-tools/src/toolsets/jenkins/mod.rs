//! Jenkins tools over Jenkins' JSON API (reqwest, never a CLI). Every tool takes the Jenkins `url` and a
//! `credentialsSecret` (`namespace/name` of a Secret with `username` and `api-token`), or uses the
//! server's defaults; both are validated before any request, the credentials are read through kube-rs
//! and never logged or returned, every POST carries a CSRF crumb, and every request has a timeout.

mod build_changesets;
mod build_get;
mod build_log;
mod build_scm;
mod build_stop;
mod build_trigger;
mod build_update;
mod builds_last;
pub mod client;
mod job_get;
mod job_parameters;
mod job_scm;
mod jobs_list;
mod whoami;

use crate::tool::{DynTool, erase};
use std::sync::Arc;

/// The Jenkins toolset.
pub fn tools() -> Vec<Arc<dyn DynTool>> {
    vec![
        erase(whoami::Whoami),
        erase(jobs_list::JobsList),
        erase(job_get::JobGet),
        erase(job_parameters::JobParameters),
        erase(job_scm::JobScm),
        erase(build_trigger::BuildTrigger),
        erase(build_get::BuildGet),
        erase(builds_last::BuildsLast),
        erase(build_update::BuildUpdate),
        erase(build_stop::BuildStop),
        erase(build_log::BuildLog),
        erase(build_scm::BuildScm),
        erase(build_changesets::BuildChangesets),
    ]
}

/// The two arguments every Jenkins tool takes, as struct fields (serde's `flatten` does not mix with
/// `deny_unknown_fields`, so each input repeats them; this trait reads them uniformly).
pub(crate) trait Target {
    /// The `url` argument.
    fn url(&self) -> Option<&str>;
    /// The `credentialsSecret` argument.
    fn secret(&self) -> Option<&str>;
    /// Checks both.
    fn check_target(&self) -> Result<(), crate::ToolError> {
        client::check_target(self.url(), self.secret())
    }
}

/// Implements [`Target`] for inputs with `url` and `credentials_secret` fields.
macro_rules! jenkins_target {
    ($t:ty) => {
        impl $crate::toolsets::jenkins::Target for $t {
            fn url(&self) -> Option<&str> {
                self.url.as_deref()
            }
            fn secret(&self) -> Option<&str> {
                self.credentials_secret.as_deref()
            }
        }
    };
}
pub(crate) use jenkins_target;

/// Connects with a call's target arguments.
pub(crate) async fn connect<T: Target>(
    ctx: &crate::ToolContext,
    input: &T,
) -> Result<client::Jenkins, crate::ToolError> {
    client::connect(ctx, input.url(), input.secret()).await
}
