// `npm run bench`: the initial JavaScript size (gzip) of web/dist, and the time from navigation to a
// usable chat (session restored from the refresh cookie, chat input enabled) in headless Chromium, as the
// median of several runs with the browser cache disabled (cold) and enabled (warm).
//
// Runs against `binnacle sim` + `binnacle serve` (offline assistant) when the binaries exist (see
// e2e/harness.mjs for BINNACLE_BIN and CHROMIUM_PATH); otherwise the API is answered by stubs in the
// browser, which measures the app alone.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { bins, launchBrowser, startStack, startStaticProxy, webDir } from '../e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const JS_TARGET_KB = 250;
const READY_TARGET_MS = 1000;
const dist = path.join(webDir, 'dist');

function build() {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: webDir, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** The JS the first page load needs: the entry module and its modulepreloads. */
function initialJs() {
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = new Set();
  for (const m of html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)) files.add(m[1]);
  for (const m of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g)) files.add(m[1]);
  return [...files].map((f) => {
    const bytes = readFileSync(path.join(dist, f.replace(/^\//, '')));
    return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Stubs for the API when no engine runs. */
async function stubApi(context) {
  const user = { id: 'u1', username: 'admin', role: 'admin', disabled: false, createdAt: 0 };
  const json = (body) => ({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await context.route('**/api/v1/**', (route) => {
    const p = new URL(route.request().url()).pathname;
    if (p.endsWith('/auth/refresh') || p.endsWith('/auth/login')) return route.fulfill(json({ accessToken: 'x', tokenType: 'Bearer', expiresIn: 900, user }));
    if (p.endsWith('/clusters')) return route.fulfill(json({ contexts: ['sim'], default: 'sim' }));
    return route.fulfill(json({ items: [] }));
  });
}

async function timeToChat(page, base) {
  await page.goto(`${base}/`, { waitUntil: 'commit' });
  await page.waitForFunction(() => {
    const box = document.querySelector('textarea[name="message"]');
    return box && !box.disabled && performance.getEntriesByName('binnacle:chat-ready').length > 0;
  }, null, { timeout: 30_000, polling: 'raf' });
  return page.evaluate(() => performance.getEntriesByName('binnacle:chat-ready')[0].startTime);
}

async function main() {
  build();
  const js = initialJs();
  const totalGzip = js.reduce((s, f) => s + f.gzip, 0);
  console.log('Initial JavaScript (gzip -9):');
  for (const f of js) console.log(`  ${f.file}  ${(f.raw / 1024).toFixed(1)} kB raw, ${(f.gzip / 1024).toFixed(1)} kB gzip`);
  console.log(`  total ${(totalGzip / 1024).toFixed(1)} kB gzip (target < ${JS_TARGET_KB} kB): ${totalGzip / 1024 < JS_TARGET_KB ? 'met' : 'MISSED'}`);

  const real = existsSync(bins.binnacle);
  let stack = null;
  let proxy = null;
  let base;
  if (real) {
    stack = await startStack({ adminPassword: 'bench-admin-password' });
    base = stack.base;
  } else {
    proxy = await startStaticProxy(dist, 'http://127.0.0.1:9');
    base = proxy.url;
  }
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    if (!real) await stubApi(context);
    // Log in once: later loads restore the session from the refresh cookie.
    const first = await context.newPage();
    await first.goto(base);
    if (real) {
      await first.getByLabel('Username').fill('admin');
      await first.getByLabel('Password').fill('bench-admin-password');
      await first.getByRole('button', { name: 'Log in' }).click();
    }
    await first.locator('textarea[name="message"]').waitFor();
    await first.close();
    const results = {};
    for (const mode of ['cold', 'warm']) {
      const times = [];
      for (let i = 0; i < RUNS; i++) {
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: mode === 'cold' });
        times.push(await timeToChat(page, base));
        await page.close();
      }
      results[mode] = times;
    }
    console.log(`Navigation to usable chat, headless Chromium, ${RUNS} runs each, against ${real ? `binnacle serve (${stack.servedBy})` : 'stubbed API'}:`);
    for (const [mode, times] of Object.entries(results)) {
      console.log(`  ${mode}: median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
    }
    const headline = median(results.cold);
    console.log(`  target < ${READY_TARGET_MS} ms (cold median ${headline.toFixed(0)} ms): ${headline < READY_TARGET_MS ? 'met' : 'MISSED'}`);
  } finally {
    await browser.close();
    await proxy?.close();
    await stack?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
