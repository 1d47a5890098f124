//! Why a tool call failed. Every message says what was wrong and what to do about it.

/// A failed tool call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    /// The arguments are malformed or invalid; nothing was called.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The named tool does not exist (or is hidden by the server's filters).
    #[error("unknown tool {0:?}: call tools/list to see the available tools")]
    UnknownTool(String),
    /// The object or resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The cluster refused the request (RBAC, admission) or the server's policy forbids it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request conflicts with the object's current state (stale version, apply conflict, PDB).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The cluster (or Jenkins, or helm) could not be reached or answered with an error.
    #[error("{0}")]
    Unavailable(String),
    /// The call did not finish within its time limit.
    #[error("timed out after {0} s; the operation may still complete in the cluster — check its state before retrying")]
    Timeout(u64),
    /// The call was cancelled by the client.
    #[error("cancelled")]
    Cancelled,
    /// A required external program (e.g. `helm`) is not installed.
    #[error("{0}")]
    MissingDependency(String),
    /// Something unexpected; the message says what.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    /// Builds an `InvalidArguments` error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        ToolError::InvalidArguments(msg.into())
    }

    /// True for errors caused by the caller's arguments (reported as protocol errors by the MCP adapter).
    pub fn is_invalid_arguments(&self) -> bool {
        matches!(self, ToolError::InvalidArguments(_) | ToolError::UnknownTool(_))
    }
}

impl From<kube::Error> for ToolError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(status) => {
                let msg = status.message.clone();
                match status.code {
                    404 => ToolError::NotFound(msg),
                    403 => ToolError::Forbidden(forbidden_advice(msg)),
                    409 | 429 => ToolError::Conflict(msg),
                    400 | 422 => ToolError::InvalidArguments(format!("the cluster rejected the request: {msg}")),
                    code => ToolError::Unavailable(format!("the cluster answered {code} {}: {msg}", status.reason)),
                }
            }
            other => ToolError::Unavailable(format!(
                "cannot reach the cluster: {other}; check that it is running and that the kubeconfig context is right"
            )),
        }
    }
}

/// A 403 from the API server with what to do: RBAC refusals (`… is forbidden: User "U" cannot VERB resource
/// "R" in API group "G" …`) name the missing permission and the roles that grant it; other 403s (admission,
/// policy) are left as the cluster worded them.
fn forbidden_advice(msg: String) -> String {
    let Some((_, rest)) = msg.split_once(" cannot ") else { return msg };
    if !msg.contains("is forbidden: User ") {
        return msg;
    }
    let mut words = rest.splitn(2, " resource \"");
    let (Some(verb), Some(tail)) = (words.next(), words.next()) else { return msg };
    let Some((resource, tail)) = tail.split_once('"') else { return msg };
    let group = tail.split_once("in API group \"").and_then(|(_, g)| g.split_once('"')).map(|(g, _)| g).unwrap_or("");
    let user =
        msg.split_once("User \"").and_then(|(_, u)| u.split_once('"')).map(|(u, _)| u).unwrap_or("the tools' user");
    let what = if group.is_empty() { resource.to_string() } else { format!("{resource} (API group {group})") };
    let (base, sub) = resource.split_once('/').unwrap_or((resource, ""));
    let read = matches!(verb, "get" | "list" | "watch");
    let fix = if base == "secrets" && read {
        "Secrets are never readable under Binnacle's read-only ClusterRole binnacle-read: name the Secret in the Helm value rbac.secretNames, or grant it with a Role and a binding"
    } else if !read || (!sub.is_empty() && sub != "log") {
        "this is a write (or part of one): bind the ClusterRole binnacle-write (Helm: rbac.write.enabled=true, and tools: readWrite in the Binnacle spec), or ask an administrator to grant it"
    } else {
        "grant it with a Role or ClusterRole and a binding (or add the kind to binnacle-read)"
    };
    let check = if sub.is_empty() {
        format!("kubectl auth can-i {verb} {base} --as {user}")
    } else {
        format!("kubectl auth can-i {verb} {base} --subresource={sub} --as {user}")
    };
    format!("{msg}. The tools run as {user}, which lacks `{verb}` on {what}: {fix}; check with `{check}`")
}

#[cfg(test)]
mod forbidden_tests {
    use super::forbidden_advice;

    #[test]
    fn rbac_refusals_say_what_is_missing_and_what_to_do() {
        let m = forbidden_advice(
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:b:sa\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"".into(),
        );
        assert!(m.contains("lacks `patch` on deployments (API group apps)"), "{m}");
        assert!(m.contains("bind the ClusterRole binnacle-write"), "{m}");
        assert!(m.contains("kubectl auth can-i patch deployments --as system:serviceaccount:b:sa"), "{m}");
        let admission = "admission webhook \"x\" denied the request: no".to_string();
        assert_eq!(forbidden_advice(admission.clone()), admission);
    }
}
