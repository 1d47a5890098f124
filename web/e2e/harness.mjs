// The end-to-end stack, started for a test run and stopped at its end: the simulated cluster
// (`binnacle sim`), the scripted LLM (`binnacle-testkit llm`), the engine (`binnacle serve`) on SQLite in
// a temporary directory, and headless Chromium (Debian's, driven by playwright-core). Everything listens
// on 127.0.0.1 with ports chosen at run time.
//
// Until the binary embeds the UI, `GET <engine>/` does not answer the app: then a tiny static server
// serves web/dist and proxies /api and /metrics to the engine. Once the engine serves the app, the tests
// use the engine's own `/`.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The web/ directory. */
export const webDir = path.resolve(here, '..');
const repo = path.resolve(webDir, '..');

/** Paths of the binaries (env overrides). */
export const bins = {
  binnacle: path.resolve(webDir, process.env.BINNACLE_BIN ?? '../target/debug/binnacle'),
  testkit: path.resolve(webDir, process.env.BINNACLE_TESTKIT_BIN ?? '../target/debug/binnacle-testkit'),
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
};

/** Every process started here, killed if the test process ends without stopping them (an interrupt). */
const running = new Set();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of running) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** Starts a process and resolves with the first stdout match of `pattern` (rejects on exit or timeout). */
function startProcess(name, cmd, args, { env = {}, pattern, timeoutMs = 60_000, cwd = repo } = {}) {
  const merged = { ...process.env, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  const child = spawn(cmd, args, { cwd, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err.slice(-4000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, logs: () => ({ out, err }) });
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\nstdout: ${out}\nstderr: ${err.slice(-4000)}`));
    });
  });
}

function stopProcess(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Serves `dist` (with the SPA fallback) and proxies /api and /metrics to `engine`. */
export function startStaticProxy(dist, engine) {
  const target = new URL(engine);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/api/') || url.pathname === '/metrics') {
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      // When the browser goes away (a reload, a stopped stream), drop the upstream request too.
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
      return;
    }
    let file = path.join(dist, path.normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, ''));
    if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, 'index.html');
    const ext = path.extname(file);
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}

/** Builds web/dist when it is missing. */
export function ensureBuilt() {
  if (existsSync(path.join(webDir, 'dist', 'index.html'))) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: webDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** Rebuilds web/dist (used with BINNACLE_E2E_LOCAL_DIST=1, so the tests see the current sources). */
function ensureFreshBuild() {
  const r = spawnSync('npm', ['run', 'build'], { cwd: webDir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** True when the engine serves the app itself at `/`. */
async function engineServesApp(engine) {
  try {
    const res = await fetch(`${engine}/`);
    const text = await res.text();
    return res.ok && text.includes('id="root"');
  } catch {
    return false;
  }
}

/**
 * Starts the stack with the scripted LLM playing `script` (omit it for the offline assistant).
 * Returns `{ base, engine, sim, kubeconfig, adminPassword, servedBy, stop() }`.
 */
export async function startStack({ script, adminPassword = 'e2e-admin-password' } = {}) {
  for (const [name, p] of Object.entries({ binnacle: bins.binnacle, ...(script ? { testkit: bins.testkit } : {}) })) {
    if (!existsSync(p)) throw new Error(`${name} binary not found at ${p}: run cargo build -p binnacle-cli -p binnacle-testkit (or set BINNACLE_BIN / BINNACLE_TESTKIT_BIN)`);
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'binnacle-e2e-'));
  const procs = [];
  let proxy = null;
  const stop = async () => {
    await proxy?.close();
    for (const p of procs.reverse()) await stopProcess(p.child);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const kubeconfig = path.join(tmp, 'kubeconfig');
    const sim = await startProcess('binnacle sim', bins.binnacle, ['sim', '--scenario', 'demo', '--listen', '127.0.0.1:0', '--kubeconfig-out', kubeconfig], {
      pattern: /serving the Kubernetes API at (http:\/\/\S+)/,
    });
    procs.push(sim);
    const env = { BINNACLE_ADMIN_PASSWORD: adminPassword, RUST_LOG: process.env.RUST_LOG ?? 'warn' };
    if (script) {
      const scriptFile = path.join(tmp, 'script.json');
      writeFileSync(scriptFile, JSON.stringify(script, null, 2));
      const llm = await startProcess('binnacle-testkit llm', bins.testkit, ['llm', '--script', scriptFile], { pattern: /^(http:\/\/\S+)$/m });
      procs.push(llm);
      Object.assign(env, { BINNACLE_LLM_PROVIDER: 'openai', BINNACLE_LLM_BASE_URL: llm.match[1], BINNACLE_LLM_MODEL: 'scripted', BINNACLE_LLM_API_KEY: 'e2e' });
    } else {
      for (const k of ['BINNACLE_LLM_PROVIDER', 'BINNACLE_LLM_BASE_URL', 'BINNACLE_LLM_MODEL', 'BINNACLE_LLM_API_KEY']) env[k] = undefined;
    }
    const serve = await startProcess(
      'binnacle serve',
      bins.binnacle,
      ['serve', '--listen', '127.0.0.1:0', '--database', `sqlite://${path.join(tmp, 'e2e.db')}`, '--kubeconfig', kubeconfig],
      { env, pattern: /Binnacle engine listening on (http:\/\/\S+)/ },
    );
    procs.push(serve);
    const engine = serve.match[1];
    let base = engine;
    let servedBy = 'engine';
    // BINNACLE_E2E_LOCAL_DIST=1 tests the local web/dist (for UI work before the binary is rebuilt).
    if (process.env.BINNACLE_E2E_LOCAL_DIST === '1' || !(await engineServesApp(engine))) {
      ensureBuilt();
      proxy = await startStaticProxy(path.join(webDir, 'dist'), engine);
      base = proxy.url;
      servedBy = process.env.BINNACLE_E2E_LOCAL_DIST === '1' ? 'static proxy over the local web/dist' : 'static proxy (the engine does not serve the UI yet)';
      if (process.env.BINNACLE_E2E_LOCAL_DIST === '1') ensureFreshBuild();
    }
    return { base, engine, sim: sim.match[1], kubeconfig, adminPassword, servedBy, stop, logs: { serve: serve.logs, sim: sim.logs } };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Launches headless Chromium. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  if (!existsSync(bins.chromium)) {
    throw new Error(`Chromium not found at ${bins.chromium}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: bins.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  });
}

/** Calls the engine's API from the test process. */
export async function apiCall(engine, method, route, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${engine}/api/v1${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** Logs in through the API; returns the access token. */
export async function apiLogin(engine, username, password) {
  const r = await apiCall(engine, 'POST', '/auth/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login as ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.accessToken;
}
