#!/usr/bin/env bash
# Runs every test suite of Binnacle: builds the workspace once, then runs the Rust suites (unit tests,
# kube-rs tests against the simulated cluster, the kubectl conformance suite) and the MCP integration tests
# (tests/python: the official MCP Python SDK against the built binary) with the same build.
# Installs what the suites need that a fresh machine lacks. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

# kubectl is the oracle of the conformance suite. The machines ship a version dispatcher; prefer its 1.32
# binary so that the suite does not depend on the dispatcher's choice.
if [ -z "${KUBECTL:-}" ]; then
  if command -v kubectl >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v kubectl)")")"
    if [ -x "$dir/kubectl.1.32" ]; then export KUBECTL="$dir/kubectl.1.32"; else export KUBECTL="$(command -v kubectl)"; fi
  else
    step "installing kubectl (the conformance suite's oracle)"
    apt-get update -qq && apt-get install -y -qq kubectl >/dev/null
    export KUBECTL="$(command -v kubectl)"
  fi
fi
echo "kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -1))"

step "building the workspace and every test target once"
cargo build --workspace --all-targets --locked

step "running the Rust test suites"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "running doc tests"
cargo test --workspace --locked --doc

# The MCP integration tests drive `target/debug/binnacle mcp` with the official MCP Python SDK. Their
# packages live in a venv under .cache/venv, reinstalled only when tests/python/requirements.txt changes.
step "running the MCP integration tests (tests/python)"
venv=.cache/venv
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
fi
want="$(sha256sum tests/python/requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt
  echo "$want" >"$venv/.requirements.sha256"
fi
BINNACLE_BIN="$PWD/target/debug/binnacle" BINNACLE_TESTKIT_BIN="$PWD/target/debug/binnacle-testkit" \
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider
