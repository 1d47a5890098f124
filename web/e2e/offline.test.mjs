// End-to-end: with no model configured the offline assistant answers, and the page says so.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startStack } from './harness.mjs';
import { ask, runEnds, shot, uiLogin } from './helpers.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the offline assistant answers with a visible note', { timeout: 120_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  await page.goto(stack.base);
  await uiLogin(page, 'admin', stack.adminPassword);
  await ask(page, 'what is broken in namespace payments?');
  await page.locator('.offline-note').waitFor();
  await page.locator('article.tool-card.status-succeeded[data-tool="find_issues"]').waitFor();
  await runEnds(page, 'completed');
  assert.match(await page.locator('.run-foot').innerText(), /offline assistant/);
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /what is broken in namespace payments/ }).waitFor();
  await shot(page, '23-offline-assistant');
});
