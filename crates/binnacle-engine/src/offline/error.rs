//! Why the offline assistant cannot finish an answer; each case is explained to the user in the answer.

/// Why a flow stops short of its full answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OfflineError {
    /// Tools the flow needs are not offered in this run.
    #[error("tools not enabled: {}", .0.join(", "))]
    NotEnabled(Vec<String>),
    /// A tool call failed.
    #[error("{tool} failed: {message}")]
    ToolFailed {
        /// The tool.
        tool: String,
        /// Its error message.
        message: String,
    },
    /// A tool call got no result.
    #[error("no result for {0}")]
    NoResult(String),
    /// A tool result had no structured content to read.
    #[error("the result of {0} has no structured content")]
    Unreadable(String),
}
