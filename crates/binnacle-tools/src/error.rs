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
                    403 => ToolError::Forbidden(msg),
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
