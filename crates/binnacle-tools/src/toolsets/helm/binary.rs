//! Driving the `helm` binary for writes and chart operations: found from the server settings or `PATH`,
//! run with an argument vector built from validated fields (never a shell; every flag in `--flag=value`
//! form and positional arguments after `--`, so no user text is ever read as a flag), values passed in a
//! private temporary file, the cluster flags (`--kubeconfig`, `--kube-context`) taken from the server's
//! configuration, a time limit on every run, and helm's errors mapped to [`ToolError`]s.

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::output::untrusted_text;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How helm runs: which kubeconfig it reads and where it keeps its repositories and caches.
#[derive(Debug, Clone, Default)]
pub struct HelmEnv {
    /// The kubeconfig file helm reads (`--kubeconfig`); it must be the one the server's contexts come
    /// from. `None`: helm's default (`KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// A directory for helm's configuration, cache and data (repositories, chart cache): sets
    /// `HELM_CONFIG_HOME`, `HELM_CACHE_HOME` and `HELM_DATA_HOME` under it. `None`: helm's defaults.
    pub helm_home: Option<PathBuf>,
}

/// Margin added to helm's own `--timeout` before the process is killed.
const KILL_MARGIN_SECS: u64 = 30;

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Finds the helm binary: the server's setting, else `helm` on `PATH`.
pub fn locate(ctx: &ToolContext) -> Result<PathBuf, ToolError> {
    if let Some(p) = &ctx.settings().helm_binary {
        if is_executable(p) {
            return Ok(p.clone());
        }
        return Err(ToolError::MissingDependency(format!(
            "helm is not installed at {} (the server's helm binary setting): install helm 3 there or point the setting at a helm 3 binary; the Helm read tools (list, status, history, values, manifest) work without it",
            p.display()
        )));
    }
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("helm")).find(|c| is_executable(c)));
    found.ok_or_else(|| {
        ToolError::MissingDependency(
            "helm is not installed (no `helm` on PATH): install helm 3 or start the server with the path of a helm binary; the Helm read tools (list, status, history, values, manifest) work without it".into(),
        )
    })
}

/// A helm binary ready to run for one call.
#[derive(Debug)]
pub struct Helm {
    binary: PathBuf,
    env: HelmEnv,
    cluster_flags: Vec<OsString>,
}

impl Helm {
    /// Locates helm; with `cluster`, also works out the flags that point it at this call's cluster.
    pub fn new(ctx: &ToolContext, env: &HelmEnv, cluster: bool) -> Result<Self, ToolError> {
        let binary = locate(ctx)?;
        let mut cluster_flags = Vec::new();
        if cluster {
            // The server's own kubeconfig unless the toolset was built with another one.
            let kubeconfig =
                env.kubeconfig.clone().or_else(|| ctx.clusters().kubeconfig_path().map(std::path::Path::to_path_buf));
            if let Some(kc) = &kubeconfig {
                let mut flag = OsString::from("--kubeconfig=");
                flag.push(kc.as_os_str());
                cluster_flags.push(flag);
            }
            let name = ctx.context_name().ok_or_else(|| ToolError::invalid("no kubeconfig context: pass `context`"))?;
            if ctx.clusters().server_of(name).is_none() {
                return Err(ToolError::Unavailable(format!(
                    "helm needs a kubeconfig context, and context {name:?} is not one (it is a client built in process); start the server with a kubeconfig to use the Helm write tools"
                )));
            }
            cluster_flags.push(OsString::from(format!("--kube-context={name}")));
        }
        Ok(Self { binary, env: env.clone(), cluster_flags })
    }

    /// Runs `helm <subcommand> <cluster flags> <flags> -- <positionals>` and returns its standard output
    /// and the command line as shown to people (file paths hidden).
    pub async fn run(
        &self,
        subcommand: &[&str],
        flags: Vec<OsString>,
        positionals: &[&str],
        timeout_secs: u64,
        what: &str,
    ) -> Result<Ran, ToolError> {
        let shown: Vec<String> = std::iter::once("helm".to_string())
            .chain(subcommand.iter().map(|s| s.to_string()))
            .chain(flags.iter().map(|f| {
                let f = f.to_string_lossy();
                match f.split_once('=') {
                    Some((name, _)) if matches!(name, "--values" | "--kubeconfig") => format!("{name}=<file>"),
                    _ => f.into_owned(),
                }
            }))
            .chain((!positionals.is_empty()).then(|| "--".to_string()))
            .chain(positionals.iter().map(|s| s.to_string()))
            .collect();
        let mut argv: Vec<OsString> = subcommand.iter().map(OsString::from).collect();
        argv.extend(self.cluster_flags.iter().cloned());
        argv.extend(flags);
        if !positionals.is_empty() {
            argv.push(OsString::from("--"));
            argv.extend(positionals.iter().map(OsString::from));
        }
        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.args(&argv).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        if let Some(home) = &self.env.helm_home {
            cmd.env("HELM_CONFIG_HOME", home.join("config"))
                .env("HELM_CACHE_HOME", home.join("cache"))
                .env("HELM_DATA_HOME", home.join("data"));
        }
        let child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => ToolError::MissingDependency(
                format!("helm could not be started from {}: {e}; install helm 3", self.binary.display()),
            ),
            _ => ToolError::Unavailable(format!("helm could not be started: {e}")),
        })?;
        let limit = timeout_secs + KILL_MARGIN_SECS;
        let output = tokio::time::timeout(Duration::from_secs(limit), child.wait_with_output())
            .await
            .map_err(|_| ToolError::Timeout(limit))?
            .map_err(|e| ToolError::Unavailable(format!("helm failed to run: {e}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            return Ok(Ran { stdout, command: shown.join(" ") });
        }
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        Err(map_error(what, &stderr, timeout_secs))
    }
}

/// What a helm run printed.
#[derive(Debug)]
pub struct Ran {
    /// Standard output.
    pub stdout: String,
    /// The command line, for people (file paths hidden; the cluster flags are not shown).
    pub command: String,
}

/// Maps helm's error output to a [`ToolError`].
pub fn map_error(what: &str, stderr: &str, timeout_secs: u64) -> ToolError {
    let text: String = untrusted_text(stderr.trim()).chars().take(2000).collect();
    let text = text.strip_prefix("Error: ").unwrap_or(&text).to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("timed out waiting") || lower.contains("context deadline exceeded") {
        return ToolError::Timeout(timeout_secs);
    }
    if lower.contains("cannot re-use a name that is still in use")
        || lower.contains("another operation")
        || lower.contains("is in progress")
    {
        return ToolError::Conflict(format!("{what}: {text}"));
    }
    if lower.contains("forbidden") || lower.contains("unauthorized") {
        return ToolError::Forbidden(format!("{what}: {text}"));
    }
    if lower.contains("not found")
        || lower.contains("no repo named")
        || lower.contains("no such file")
        || lower.contains("has no deployed releases")
    {
        return ToolError::NotFound(format!("{what}: {text}"));
    }
    if lower.contains("already exists with the same configuration") {
        return ToolError::Conflict(format!("{what}: {text}"));
    }
    ToolError::Unavailable(format!("{what} failed: {text}"))
}

/// Writes values YAML to a private temporary file for `--values`; the file is removed when dropped.
pub fn values_file(yaml: &str) -> Result<tempfile::NamedTempFile, ToolError> {
    let mut f = tempfile::Builder::new()
        .prefix("binnacle-values-")
        .suffix(".yaml")
        .tempfile()
        .map_err(|e| ToolError::Internal(format!("cannot create a temporary values file: {e}")))?;
    f.write_all(yaml.as_bytes())
        .map_err(|e| ToolError::Internal(format!("cannot write the temporary values file: {e}")))?;
    f.flush().map_err(|e| ToolError::Internal(format!("cannot write the temporary values file: {e}")))?;
    Ok(f)
}

/// `--flag=value`.
pub fn flag(name: &str, value: impl AsRef<std::ffi::OsStr>) -> OsString {
    let mut f = OsString::from(format!("--{name}="));
    f.push(value.as_ref());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_kinds() {
        assert!(matches!(
            map_error("install", "Error: INSTALLATION FAILED: cannot re-use a name that is still in use", 300),
            ToolError::Conflict(_)
        ));
        assert!(matches!(map_error("rollback", "Error: release: not found", 300), ToolError::NotFound(_)));
        assert!(matches!(map_error("install", "Error: context deadline exceeded", 300), ToolError::Timeout(300)));
        assert!(matches!(
            map_error("install", "Error: secrets is forbidden: User cannot", 300),
            ToolError::Forbidden(_)
        ));
        assert!(matches!(map_error("install", "Error: something else", 300), ToolError::Unavailable(_)));
        assert_eq!(flag("namespace", "apps"), OsString::from("--namespace=apps"));
    }
}
