// Helpers shared by the end-to-end tests: screenshots, the accessibility check, logging in.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { webDir } from './harness.mjs';

const require = createRequire(import.meta.url);
const screenshots = path.join(webDir, 'e2e', 'screenshots');
mkdirSync(screenshots, { recursive: true });

/** Saves a full-page screenshot as e2e/screenshots/NAME.png. */
export async function shot(page, name) {
  const file = path.join(screenshots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

let axeCode = '';
function axeSource() {
  if (!axeCode) axeCode = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return axeCode;
}

/** Runs axe-core in the page; fails on any serious or critical violation. */
export async function checkA11y(page, label) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not block
  // (an injected <script> would be).
  if (!loaded) await page.evaluate(`${axeSource()}\n;void 0`);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.filter((x) => !bad.includes(x))) console.log(`# axe (${label}): ${v.impact} ${v.id}: ${v.help}`);
  assert.deepEqual(bad, [], `${label}: accessibility violations:\n${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Logs in through the login form and waits for the app (the page the URL names). */
export async function uiLogin(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Types a message and sends it with Enter. */
export async function ask(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** The last run section on the page. */
export function lastRun(page) {
  return page.locator('section.run').last();
}

/** Waits until the last run has status `status` (completed, stopped…). */
export async function runEnds(page, status, timeout = 30_000) {
  await page.locator(`section.run[data-status="${status}"]`).last().waitFor({ timeout });
}
