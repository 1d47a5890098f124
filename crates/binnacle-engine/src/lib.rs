//! Binnacle's agent runs: the loop over an LLM and the tool catalog, the approval gate, run events and the
//! offline assistant. No HTTP here: the API crate drives an [`Engine`].

pub mod offline;
pub mod tool_text;
