//! kubectl conformance suite: the real kubectl (1.32) against an in-process simulated cluster.
//!
//! Each test starts its own `SimCluster` (empty or demo scenario, clock at 10x), serves it on a loopback
//! port and runs kubectl as a child process with its own kubeconfig, `HOME` and `--cache-dir`. Assertions
//! are on what kubectl prints (ages normalised) and, where it matters, on the requests the simulator saw.
//!
//! Run with `cargo test -p binnacle-sim --test kubectl`. Tests marked `#[ignore = "sim bug: ..."]` document
//! simulator bugs; run them with `-- --ignored`.

#![allow(clippy::unwrap_used, missing_docs)]

mod harness;

mod apply;
mod crd;
mod delete;
mod describe;
mod errors;
mod faults;
mod get;
mod logs_events;
mod misc;
mod patch;
mod rollout;
