//! Reading kubeconfigs the way kubectl does: one file, or a `KUBECONFIG`-style list merged in order (the first
//! file to name a context, cluster or user wins; files that do not exist are skipped), and building a kube
//! client for one context. [`ClusterSet`](crate::ClusterSet) and the fleet (`binnacle-fleet`) share these.
//!
//! In a pod there is usually no kubeconfig: when no kubeconfig file exists and `KUBERNETES_SERVICE_HOST` and
//! `KUBERNETES_SERVICE_PORT` are set, the pod's service account is used as one cluster named
//! [`IN_CLUSTER`] (`in-cluster`), see [`InCluster`].

use crate::error::ToolError;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long connecting to a cluster may take before a request fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a response may take to arrive once connected.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The kubeconfig files to read when none is given: the `KUBECONFIG` list, else `~/.kube/config`.
pub fn default_paths() -> Vec<PathBuf> {
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths = split_list(&value);
        if !paths.is_empty() {
            return paths;
        }
    }
    std::env::var_os("HOME").map(|h| vec![PathBuf::from(h).join(".kube").join("config")]).unwrap_or_default()
}

/// Splits a `KUBECONFIG`-style list (`a:b:c` on Unix), dropping empty entries.
pub fn split_list(value: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(value).filter(|p| !p.as_os_str().is_empty()).collect()
}

/// Reads and merges kubeconfig files in order, as kubectl does with `KUBECONFIG`: files that do not exist
/// are skipped; a file that exists but cannot be read or parsed is an error naming it. When no file exists:
/// in a pod ([`InCluster::from_env`]) the service account's kubeconfig ([`InCluster::kubeconfig`], one
/// context named [`IN_CLUSTER`]), else an empty kubeconfig.
pub fn read_merged(paths: &[PathBuf]) -> Result<Kubeconfig, ToolError> {
    if !paths.iter().any(|p| p.exists())
        && let Some(in_cluster) = InCluster::from_env()
    {
        tracing::debug!(dir = %in_cluster.dir.display(), "no kubeconfig file exists; using the pod's service account");
        return in_cluster.kubeconfig();
    }
    read_files(paths)
}

fn read_files(paths: &[PathBuf]) -> Result<Kubeconfig, ToolError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        if !path.exists() {
            tracing::debug!(path = %path.display(), "kubeconfig file does not exist; skipped");
            continue;
        }
        let kc = read_one(path)?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| {
                ToolError::invalid(format!(
                    "kubeconfig {} cannot be merged with the ones before it: {e}",
                    path.display()
                ))
            })?,
        });
    }
    Ok(merged.unwrap_or_default())
}

/// Reads one kubeconfig file.
pub fn read_one(path: &Path) -> Result<Kubeconfig, ToolError> {
    Kubeconfig::read_from(path).map_err(|e| {
        ToolError::invalid(format!("cannot read kubeconfig {}: {e}; fix the file or leave it out", path.display()))
    })
}

/// The context names of a kubeconfig, in file order.
pub fn context_names(kc: &Kubeconfig) -> Vec<String> {
    kc.contexts.iter().map(|c| c.name.clone()).collect()
}

/// The server URL of a context (never credentials).
pub fn server_of(kc: &Kubeconfig, context: &str) -> Option<String> {
    let cluster_name = kc.contexts.iter().find(|c| c.name == context)?.context.as_ref()?.cluster.clone();
    kc.clusters.iter().find(|c| c.name == cluster_name)?.cluster.as_ref()?.server.clone()
}

/// A fingerprint of everything that decides how a context connects (its context, cluster and user entries):
/// equal fingerprints mean an unchanged connection. Credentials are only hashed, never kept.
pub fn context_fingerprint(kc: &Kubeconfig, context: &str) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let ctx = kc.contexts.iter().find(|c| c.name == context)?;
    let inner = ctx.context.as_ref();
    let cluster = inner.and_then(|i| kc.clusters.iter().find(|c| c.name == i.cluster));
    let user = inner.and_then(|i| i.user.as_ref()).and_then(|u| kc.auth_infos.iter().find(|a| &a.name == u));
    let text = serde_json::to_string(&(ctx, cluster, user)).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    Some(h.finish())
}

/// Builds a client for one context of a kubeconfig, with [`CONNECT_TIMEOUT`] and [`READ_TIMEOUT`].
pub async fn client_for(kc: &Kubeconfig, context: &str) -> Result<Client, ToolError> {
    if !kc.contexts.iter().any(|c| c.name == context) {
        return Err(ToolError::invalid(format!("unknown context {context:?}; contexts: {:?}", context_names(kc))));
    }
    let opts = KubeConfigOptions { context: Some(context.to_string()), ..Default::default() };
    let mut config = kube::Config::from_custom_kubeconfig(kc.clone(), &opts)
        .await
        .map_err(|e| ToolError::Unavailable(format!("cannot use context {context:?}: {e}")))?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    Client::try_from(config)
        .map_err(|e| ToolError::Unavailable(format!("cannot build a client for context {context:?}: {e}")))
}

/// The name of the one cluster (context) built from a pod's service account.
pub const IN_CLUSTER: &str = "in-cluster";

/// Where Kubernetes mounts a pod's service-account token, CA bundle and namespace.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Overrides [`SERVICE_ACCOUNT_DIR`] (for tests; in a pod leave it unset).
pub const SERVICE_ACCOUNT_DIR_ENV: &str = "BINNACLE_SERVICEACCOUNT_DIR";

/// What says we run in a pod: the API server's address from `KUBERNETES_SERVICE_HOST` and
/// `KUBERNETES_SERVICE_PORT`, and the service-account directory holding `token`, `ca.crt` and `namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCluster {
    /// `KUBERNETES_SERVICE_HOST`: a host name or an IP address (IPv6 without brackets).
    pub host: String,
    /// `KUBERNETES_SERVICE_PORT`.
    pub port: String,
    /// The service-account directory ([`SERVICE_ACCOUNT_DIR`] unless [`SERVICE_ACCOUNT_DIR_ENV`] is set).
    pub dir: PathBuf,
}

impl InCluster {
    /// From the environment; `None` unless both `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` are set
    /// and not empty (as client-go requires).
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let dir = std::env::var_os(SERVICE_ACCOUNT_DIR_ENV)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SERVICE_ACCOUNT_DIR));
        Some(Self { host: var("KUBERNETES_SERVICE_HOST")?, port: var("KUBERNETES_SERVICE_PORT")?, dir })
    }

    /// The API server's URL: `https://host:port`, IPv6 addresses in brackets, no port for 443.
    pub fn server_url(&self) -> Result<String, ToolError> {
        let port: u16 = self.port.parse().map_err(|_| {
            ToolError::Unavailable(format!(
                "KUBERNETES_SERVICE_PORT is {:?}, not a port number; unset it outside a pod or fix the pod's environment",
                self.port
            ))
        })?;
        let host = match self.host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
            Ok(ip) => ip.to_string(),
            Err(_) => self.host.clone(),
        };
        let url = if port == 443 { format!("https://{host}") } else { format!("https://{host}:{port}") };
        url.parse::<http::Uri>().map_err(|e| {
            ToolError::Unavailable(format!(
                "KUBERNETES_SERVICE_HOST {:?} does not make a valid URL ({e}); unset it outside a pod",
                self.host
            ))
        })?;
        Ok(url)
    }

    /// A kubeconfig with one context, cluster and user named [`IN_CLUSTER`]: the server from the environment,
    /// the CA bundle and token as files (kube re-reads the token file, so rotated tokens are picked up) and the
    /// service account's namespace as the default namespace (`default` when the `namespace` file is absent).
    /// A missing token or CA file is an error naming it.
    pub fn kubeconfig(&self) -> Result<Kubeconfig, ToolError> {
        use kube::config::{AuthInfo, Cluster, Context, NamedAuthInfo, NamedCluster, NamedContext};
        let server = self.server_url()?;
        let token = self.dir.join("token");
        let ca = self.dir.join("ca.crt");
        for (file, what) in [(&token, "service-account token"), (&ca, "cluster CA bundle")] {
            if !file.is_file() {
                return Err(ToolError::Unavailable(format!(
                    "running in a pod (KUBERNETES_SERVICE_HOST is set) but the {what} {} does not exist: mount the \
                     service account token (automountServiceAccountToken: true) or pass --kubeconfig",
                    file.display()
                )));
            }
        }
        let namespace_file = self.dir.join("namespace");
        let namespace = match std::fs::read_to_string(&namespace_file) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
            Ok(_) => "default".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "default".to_string(),
            Err(e) => {
                return Err(ToolError::Unavailable(format!(
                    "cannot read the service account's namespace {}: {e}; check the pod's service-account mount",
                    namespace_file.display()
                )));
            }
        };
        let path_text = |p: &Path| p.to_string_lossy().into_owned();
        Ok(Kubeconfig {
            clusters: vec![NamedCluster {
                name: IN_CLUSTER.to_string(),
                cluster: Some(Cluster {
                    server: Some(server),
                    certificate_authority: Some(path_text(&ca)),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            auth_infos: vec![NamedAuthInfo {
                name: IN_CLUSTER.to_string(),
                auth_info: Some(AuthInfo { token_file: Some(path_text(&token)), ..Default::default() }),
                ..Default::default()
            }],
            contexts: vec![NamedContext {
                name: IN_CLUSTER.to_string(),
                context: Some(Context {
                    cluster: IN_CLUSTER.to_string(),
                    user: Some(IN_CLUSTER.to_string()),
                    namespace: Some(namespace),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            current_context: Some(IN_CLUSTER.to_string()),
            ..Default::default()
        })
    }
}

/// Where a server's clusters come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The kubeconfig file given explicitly (`--kubeconfig`), whether or not it exists.
    Explicit(PathBuf),
    /// The default kubeconfig files (`KUBECONFIG`, else `~/.kube/config`), at least one of which exists.
    Default(Vec<PathBuf>),
    /// No kubeconfig file exists and we run in a pod: its service account.
    InCluster(InCluster),
    /// No kubeconfig file exists and we do not run in a pod.
    Nothing,
}

impl Source {
    /// Picks the source: an explicit path wins; else the default files when one of them exists; else the pod's
    /// service account when `in_cluster` is set; else nothing.
    pub fn choose(explicit: Option<&Path>, defaults: Vec<PathBuf>, in_cluster: Option<InCluster>) -> Self {
        if let Some(path) = explicit {
            return Source::Explicit(path.to_path_buf());
        }
        if defaults.iter().any(|p| p.exists()) {
            return Source::Default(defaults);
        }
        match in_cluster {
            Some(ic) => Source::InCluster(ic),
            None => Source::Nothing,
        }
    }

    /// [`Source::choose`] from this process's environment ([`default_paths`], [`InCluster::from_env`]).
    pub fn from_env(explicit: Option<&Path>) -> Self {
        Self::choose(explicit, default_paths(), InCluster::from_env())
    }
}

/// The error when no kubeconfig exists and we do not run in a pod.
pub const NO_KUBECONFIG: &str = "no kubeconfig found and not running in a pod: pass --kubeconfig or set KUBECONFIG";

#[cfg(test)]
mod tests {
    use super::*;

    fn service_account(namespace: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("token"), "sa-token-123\n").expect("token");
        std::fs::write(dir.path().join("ca.crt"), TEST_CA).expect("ca");
        if let Some(ns) = namespace {
            std::fs::write(dir.path().join("namespace"), ns).expect("namespace");
        }
        dir
    }

    fn pod(dir: &Path, host: &str, port: &str) -> InCluster {
        InCluster { host: host.into(), port: port.into(), dir: dir.to_path_buf() }
    }

    // A self-signed CA certificate (test data only; no key is kept).
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIURR/weVU51SpCCFw6C8hHByuuJSgwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQYmlubmFjbGUtdGVzdC1jYTAgFw0yNjExMjQwMDAwNDdaGA8y
MTI2MTAzMTAwMDA0N1owGzEZMBcGA1UEAwwQYmlubmFjbGUtdGVzdC1jYTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABPA6Fq1x2/J2OulwjioArhCgvorxbdsdyLeg
2AxJWUXQry/SA9MpBjSQUuliEz76HptTniFW/DflqE9QrlD8dHGjUzBRMB0GA1Ud
DgQWBBT/Mbrs90BBt8hI3ZnKMbZM+rWpnDAfBgNVHSMEGDAWgBT/Mbrs90BBt8hI
3ZnKMbZM+rWpnDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCICBM
N51IpI69d+r1ON2veGwzBPKb3NOFzdsLL8aVas/7AiEAvmEcBNuatMtm3AZeshNg
w6FzkAOokNl/pYJEHLUbZO8=
-----END CERTIFICATE-----
";

    #[test]
    fn choose_prefers_explicit_then_existing_defaults_then_the_pod() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let existing = tmp.path().join("config");
        std::fs::write(&existing, "apiVersion: v1\nkind: Config\n").expect("write");
        let missing = tmp.path().join("missing");
        let ic = pod(tmp.path(), "10.0.0.1", "443");

        let explicit = Source::choose(Some(&missing), vec![existing.clone()], Some(ic.clone()));
        assert_eq!(explicit, Source::Explicit(missing.clone()));
        let defaults = Source::choose(None, vec![missing.clone(), existing.clone()], Some(ic.clone()));
        assert_eq!(defaults, Source::Default(vec![missing.clone(), existing]));
        assert_eq!(Source::choose(None, vec![missing.clone()], Some(ic.clone())), Source::InCluster(ic.clone()));
        assert_eq!(Source::choose(None, vec![], Some(ic.clone())), Source::InCluster(ic));
        assert_eq!(Source::choose(None, vec![missing], None), Source::Nothing);
    }

    #[test]
    fn server_url_brackets_ipv6_and_drops_443() {
        let d = Path::new("/nonexistent");
        assert_eq!(pod(d, "10.96.0.1", "443").server_url().expect("url"), "https://10.96.0.1");
        assert_eq!(pod(d, "10.96.0.1", "6443").server_url().expect("url"), "https://10.96.0.1:6443");
        assert_eq!(pod(d, "fd00::1", "443").server_url().expect("url"), "https://[fd00::1]");
        assert_eq!(pod(d, "fd00::1", "6443").server_url().expect("url"), "https://[fd00::1]:6443");
        assert_eq!(
            pod(d, "kubernetes.default.svc", "443").server_url().expect("url"),
            "https://kubernetes.default.svc"
        );
        let bad = pod(d, "10.96.0.1", "https").server_url().expect_err("bad port").to_string();
        assert!(bad.contains("KUBERNETES_SERVICE_PORT") && bad.contains("\"https\""), "{bad}");
        let bad = pod(d, "bad host", "443").server_url().expect_err("bad host").to_string();
        assert!(bad.contains("KUBERNETES_SERVICE_HOST"), "{bad}");
    }

    #[tokio::test]
    async fn the_config_built_has_the_server_token_file_and_namespace() {
        let sa = service_account(Some("binnacle-system\n"));
        let kc = pod(sa.path(), "10.96.0.1", "6443").kubeconfig().expect("kubeconfig");
        assert_eq!(context_names(&kc), vec![IN_CLUSTER.to_string()]);
        assert_eq!(kc.current_context.as_deref(), Some(IN_CLUSTER));
        assert_eq!(server_of(&kc, IN_CLUSTER).as_deref(), Some("https://10.96.0.1:6443"));

        let opts = KubeConfigOptions { context: Some(IN_CLUSTER.into()), ..Default::default() };
        let config = kube::Config::from_custom_kubeconfig(kc.clone(), &opts).await.expect("config");
        assert_eq!(config.cluster_url.to_string(), "https://10.96.0.1:6443/");
        assert_eq!(config.default_namespace, "binnacle-system");
        let token_file = config.auth_info.token_file.clone().expect("token file");
        assert_eq!(PathBuf::from(&token_file), sa.path().join("token"));
        assert_eq!(std::fs::read_to_string(&token_file).expect("token").trim(), "sa-token-123");
        let roots = config.root_cert.clone().expect("the CA bundle is loaded");
        assert_eq!(roots.len(), 1);
        assert!(!config.accept_invalid_certs);
        // A client builds from it (the token file is read then; nothing is sent yet).
        client_for(&kc, IN_CLUSTER).await.expect("client");
    }

    #[test]
    fn a_missing_namespace_file_means_default_and_missing_credentials_are_named() {
        let sa = service_account(None);
        let kc = pod(sa.path(), "10.96.0.1", "443").kubeconfig().expect("kubeconfig");
        let ns = kc.contexts[0].context.as_ref().and_then(|c| c.namespace.clone());
        assert_eq!(ns.as_deref(), Some("default"));

        std::fs::remove_file(sa.path().join("token")).expect("rm");
        let e = pod(sa.path(), "10.96.0.1", "443").kubeconfig().expect_err("no token").to_string();
        assert!(e.contains("service-account token") && e.contains("token") && e.contains("--kubeconfig"), "{e}");

        let empty = tempfile::tempdir().expect("tempdir");
        std::fs::write(empty.path().join("token"), "t").expect("token");
        let e = pod(empty.path(), "10.96.0.1", "443").kubeconfig().expect_err("no ca").to_string();
        assert!(e.contains("cluster CA bundle") && e.contains("ca.crt"), "{e}");
    }

    #[test]
    fn read_merged_reads_existing_files_even_in_a_pod() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let kc = read_files(&[tmp.path().join("missing")]).expect("empty");
        assert!(kc.contexts.is_empty());
    }
}
