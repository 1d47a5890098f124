// End-to-end: the Command Center against `binnacle serve` with the simulated cluster and the scripted
// model, in headless Chromium. The tests run in order and share one stack; each saves a screenshot under
// e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiCall, apiLogin, launchBrowser, startStack } from './harness.mjs';
import { ask, checkA11y, lastRun, runEnds, shot, uiLogin } from './helpers.mjs';
import { SLOW_TEXT, script } from './script.mjs';

let stack;
let browser;
let context;
let page;
let adminToken;

async function replicasOfCart() {
  const res = await fetch(`${stack.sim}/apis/apps/v1/namespaces/shop/deployments/cart`, { headers: { authorization: 'Bearer sim-admin-token' } });
  assert.equal(res.status, 200);
  return (await res.json()).spec.replicas;
}

async function newConversation() {
  await page.getByRole('link', { name: 'New conversation' }).click();
  await page.getByRole('heading', { name: 'New conversation' }).waitFor();
}

describe('Command Center', { timeout: 600_000 }, () => {
  before(async () => {
    stack = await startStack({ script });
    console.log(`# stack: UI at ${stack.base} (${stack.servedBy}), engine ${stack.engine}, cluster ${stack.sim}`);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    if (process.env.E2E_DEBUG) {
      page.on('console', (m) => console.log(`# console ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
      page.on('response', (r) => r.url().includes('/api/') && console.log(`# ${r.status()} ${r.request().method()} ${r.url()}`));
    }
    adminToken = await apiLogin(stack.engine, 'admin', stack.adminPassword);
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('log in', async () => {
    await page.goto(stack.base);
    await page.getByRole('heading', { name: 'Binnacle Command Center' }).waitFor();
    await checkA11y(page, 'login page');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('wrong username or password').waitFor();
    await shot(page, '01-login-error');
    await uiLogin(page, 'admin', stack.adminPassword);
    assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes('eyJ')), false, 'no token in localStorage');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the refresh cookie is HttpOnly');
    await shot(page, '02-chat-empty');
  });

  test('ask a question: streamed Markdown answer, thinking and a tool card', async () => {
    await ask(page, 'which pods run in shop?');
    const card = page.locator('article.tool-card[data-tool="resources_list"]');
    await card.waitFor();
    await page.locator('article.tool-card.status-succeeded[data-tool="resources_list"]').waitFor();
    await page.waitForURL(/\/c\//);
    // The answer streams in: partial text first, then all of it.
    await lastRun(page).getByText('has healthy pods').waitFor();
    await runEnds(page, 'completed');
    const run = lastRun(page);
    assert.match(await run.locator('.md strong').first().innerText(), /shop/);
    assert.equal(await run.locator('.md table').count(), 1, 'the Markdown table is rendered');
    assert.equal(await run.locator('.md img, .md script').count(), 0, 'images and scripts are removed');
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing from the model ran');
    assert.equal(await run.locator('a[href^="javascript"]').count(), 0);
    // The tool card: tool, cluster, arguments, status, duration; the result collapsed.
    assert.match(await card.innerText(), /resources_list/);
    assert.match(await card.locator('.chip').innerText(), /sim/);
    assert.match(await card.locator('.tool-args').innerText(), /kind=pods namespace=shop/);
    assert.equal(await card.locator('details.tool-result').getAttribute('open'), null, 'collapsed by default');
    await card.locator('details.tool-result summary').click();
    await card.locator('.structured').waitFor();
    // Thinking is there, collapsed.
    assert.equal(await run.locator('details.thinking').count(), 1);
    // Usage and time to first token.
    const foot = await run.locator('.run-foot').innerText();
    assert.match(foot, /400 in · 32 out tokens/);
    assert.match(foot, /first token \d+/);
    await checkA11y(page, 'chat page');
    await shot(page, '03-answer-and-tool-card');
  });

  test('ask for a change, approve it on the card, and see it in the cluster', async () => {
    await newConversation();
    const before = await replicasOfCart();
    assert.notEqual(before, 4);
    await ask(page, 'scale cart to 4');
    const card = page.locator('article.approval-card');
    await card.waitFor();
    await card.getByText('workload_scale').first().waitFor();
    await card.locator('.diff-add', { hasText: 'replicas: 4' }).waitFor();
    assert.ok((await card.locator('.diff-del').count()) >= 1, 'removed lines are shown');
    assert.equal(await replicasOfCart(), before, 'nothing changes before the decision');
    await page.locator('.mainnav .count').waitFor();
    await shot(page, '04-approval-required');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.getByText('Approved by admin').waitFor();
    await page.locator('article.tool-card.status-succeeded[data-tool="workload_scale"]').waitFor();
    await runEnds(page, 'completed');
    await lastRun(page).getByText('now has 4 replicas').waitFor();
    assert.equal(await replicasOfCart(), 4, 'the cluster changed');
    await shot(page, '05-approved');
  });

  test('deny a change from the pending approvals page', async () => {
    await newConversation();
    await ask(page, 'scale cart to 7');
    await page.locator('article.approval-card').waitFor();
    const convUrl = page.url();
    await page.getByRole('link', { name: /Approvals/ }).click();
    await page.getByRole('heading', { name: 'Approvals' }).waitFor();
    const card = page.locator('article.approval-card', { hasText: 'workload_scale' });
    await card.locator('.diff-add', { hasText: 'replicas: 7' }).waitFor();
    await checkA11y(page, 'approvals page');
    await shot(page, '06-pending-approvals');
    await card.getByLabel(/Reason/).fill('not during the sale');
    await card.getByRole('button', { name: 'Deny' }).click();
    await page.getByText('Nothing is waiting for a decision.').waitFor();
    await page.goto(convUrl);
    const back = page.locator('article.approval-card');
    await back.getByText('Denied by admin').waitFor();
    await back.getByText('not during the sale').waitFor();
    await page.locator('article.tool-card.status-denied[data-tool="workload_scale"]').waitFor();
    await runEnds(page, 'completed');
    assert.equal(await replicasOfCart(), 4, 'the denied change did not happen');
    await shot(page, '07-denied');
  });

  test('errors show where they happen: a failed tool on its card, a failed send under the input', async () => {
    await newConversation();
    await ask(page, 'show me the ghost pod');
    const card = page.locator('article.tool-card.status-failed[data-tool="resource_get"]');
    await card.waitFor();
    assert.match(await card.locator('.tool-summary').innerText(), /ghost/);
    await runEnds(page, 'completed');
    // The next send fails (the server is briefly unavailable): the message stays, the error is under it.
    await page.route('**/api/v1/conversations/*/messages', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'database_unavailable', message: 'the database is unavailable; retry shortly' } }) }),
    );
    try {
      const box = page.getByRole('textbox', { name: 'Message' });
      await box.fill('first line');
      await box.press('Shift+Enter');
      await box.pressSequentially('second line');
      assert.equal(await box.inputValue(), 'first line\nsecond line', 'Shift+Enter makes a new line');
      await box.press('Enter');
      await page.locator('.composer [role="alert"]', { hasText: 'database is unavailable' }).waitFor();
      assert.equal(await box.inputValue(), 'first line\nsecond line', 'the text is kept');
      await shot(page, '08a-errors-in-place');
    } finally {
      await page.unroute('**/api/v1/conversations/*/messages');
    }
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await page.locator('.composer [role="alert"]').waitFor({ state: 'detached' });
    await runEnds(page, 'completed');
    assert.equal(await page.locator('.user-msg').count(), 2);
  });

  test('stop a run with Esc', async () => {
    await newConversation();
    await ask(page, 'hang on');
    await lastRun(page).getByText('waiting for ever').waitFor();
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await page.keyboard.press('Escape');
    await runEnds(page, 'stopped');
    await page.getByRole('button', { name: 'Send' }).waitFor();
    await shot(page, '08-stopped');
  });

  test('reload mid-stream and reattach', async () => {
    await newConversation();
    await ask(page, 'tell me a slow story');
    await lastRun(page).getByText('streams slowly').waitFor();
    await page.waitForURL(/\/c\//);
    await page.reload();
    // The session is restored from the refresh cookie and the run's stream is followed again.
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    // Still streaming after the reload: the page followed the live run again (from its first event).
    await page.locator('section.run[data-status="running"]').waitFor();
    await page.getByRole('button', { name: 'Stop' }).waitFor();
    await lastRun(page).locator('.md').first().waitFor();
    await runEnds(page, 'completed');
    assert.equal((await lastRun(page).locator('.md').innerText()).trim(), SLOW_TEXT, 'the whole answer, once');
    await shot(page, '09-reattached');
  });

  test('a lost connection reconnects by itself with Last-Event-ID', async () => {
    await newConversation();
    // The first stream is cut after a few events, the next two attempts fail to connect; then the
    // stream is let through. The client must resume after the last event it saw.
    const seen = [];
    let attempts = 0;
    await page.route('**/api/v1/runs/*/events', async (route) => {
      attempts += 1;
      seen.push(route.request().headers()['last-event-id'] ?? null);
      if (attempts === 1) {
        const full = await (await route.fetch()).text();
        const events = full.split('\n\n').filter((e) => e.includes('data:'));
        const cut = events.slice(0, Math.floor(events.length / 2)).join('\n\n') + '\n\n';
        await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: cut });
      } else if (attempts <= 3) {
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    try {
      await ask(page, 'flaky network please');
      await page.getByText(/reconnecting/).waitFor();
      await shot(page, '10-reconnecting');
      await runEnds(page, 'completed');
      assert.equal((await lastRun(page).locator('.md').innerText()).trim(), SLOW_TEXT, 'no gap and no duplicate');
      assert.equal(await page.getByText(/reconnecting/).count(), 0, 'the note goes away');
      assert.equal(seen[0], null, 'the first request starts at the beginning');
      assert.ok(Number(seen[1]) > 1, `then resumes after the last event seen (Last-Event-ID ${seen[1]})`);
      assert.equal(seen[3], seen[1], 'every retry resumes from the same event');
    } finally {
      await page.unroute('**/api/v1/runs/*/events');
    }
  });

  test('history: search, reopen exactly, rename, delete', async () => {
    const sidebar = page.getByRole('navigation', { name: 'Conversations' });
    await sidebar.getByRole('link', { name: /scale cart to 4/ }).waitFor();
    await sidebar.getByLabel('Search conversations').fill('cart to 4');
    await sidebar.getByRole('link', { name: /scale cart to 7/ }).waitFor({ state: 'detached' });
    await sidebar.getByRole('link', { name: /scale cart to 4/ }).click();
    // The replay: the message, the approval with its diff and decision, the tool card, the usage.
    await page.getByText('Approved by admin').waitFor();
    await page.locator('.diff-add', { hasText: 'replicas: 4' }).waitFor();
    await page.locator('article.tool-card.status-succeeded[data-tool="workload_scale"]').waitFor();
    assert.match(await lastRun(page).locator('.run-foot').innerText(), /320 in · 25 out tokens/);
    await shot(page, '11-history-replay');
    await sidebar.getByRole('button', { name: /Rename scale cart to 4/ }).click();
    await sidebar.getByLabel('New title').fill('Cart scaled to four');
    await sidebar.getByLabel('New title').press('Enter');
    await sidebar.getByLabel('Search conversations').fill('');
    await sidebar.getByRole('link', { name: /Cart scaled to four/ }).waitFor();
    await sidebar.getByRole('button', { name: /Delete hang on/ }).click();
    await sidebar.getByRole('button', { name: 'Delete', exact: true }).click();
    await sidebar.getByRole('link', { name: /hang on/ }).waitFor({ state: 'detached' });
    const list = await apiCall(stack.engine, 'GET', '/conversations', { token: adminToken });
    assert.ok(list.body.items.some((c) => c.title === 'Cart scaled to four'));
    assert.ok(!list.body.items.some((c) => c.title === 'hang on'));
    await shot(page, '12-history-renamed');
  });

  test('admin pages: users, integrations, audit verification, usage chart', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Users and roles' }).waitFor();
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Username').fill('olga');
    await form.getByLabel(/Initial password/).fill('olga-password-1');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.locator('tr[data-user="olga"]').waitFor();
    await checkA11y(page, 'admin users page');
    await shot(page, '13-admin-users');

    await page.getByRole('link', { name: 'Integrations' }).click();
    const f = page.getByRole('form', { name: 'Add a Jenkins server' });
    await f.getByLabel('Name', { exact: true }).fill('jenkins-main');
    await f.getByLabel('URL', { exact: true }).fill('http://jenkins.example:8080');
    await f.getByLabel(/Credentials Secret/).fill('Bad Ref');
    await page.getByText('Use namespace/name in lowercase').waitFor();
    await f.getByLabel(/Credentials Secret/).fill('ci/jenkins-credentials');
    await f.getByRole('button', { name: 'Add integration' }).click();
    await page.getByRole('rowheader', { name: 'jenkins-main' }).waitFor();
    await checkA11y(page, 'admin integrations page');
    await shot(page, '14-admin-integrations');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-verified="true"]').waitFor();
    await page.getByRole('cell', { name: 'approval.approved' }).first().waitFor();
    await checkA11y(page, 'admin audit page');
    await shot(page, '15-admin-audit');

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.locator('.chart svg rect.bar-prompt').first().waitFor({ state: 'attached' });
    const tallest = await page.locator('.chart svg rect.bar-prompt').evaluateAll((rs) => Math.max(...rs.map((r) => Number(r.getAttribute('height')))));
    assert.ok(tallest > 10, "today's bar shows the tokens used by the tests");
    const label = await page.locator('.chart svg').getAttribute('aria-label');
    assert.match(label ?? '', /Tokens per day/);
    await checkA11y(page, 'admin usage page');
    await shot(page, '16-admin-usage');
  });

  test('a viewer sees approvals read-only; an expired session says so', async () => {
    const created = await apiCall(stack.engine, 'POST', '/users', { token: adminToken, body: { username: 'vera', password: 'vera-password-1', role: 'operator' } });
    assert.equal(created.status, 201);
    const vctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const v = await vctx.newPage();
    v.setDefaultTimeout(20_000);
    try {
      await v.goto(stack.base);
      await uiLogin(v, 'vera', 'vera-password-1');
      await ask(v, 'scale cart to 2');
      const card = v.locator('article.approval-card');
      await card.getByRole('button', { name: 'Approve' }).waitFor();
      // The admin disables vera: her next request fails, the refresh fails, and the screen says why.
      await apiCall(stack.engine, 'PATCH', `/users/${created.body.id}`, { token: adminToken, body: { disabled: true } });
      await v.getByRole('link', { name: /Approvals/ }).click();
      await v.getByRole('heading', { name: 'Your session expired' }).waitFor();
      await shot(v, '17-session-expired');
      // Back as a viewer: the card has no buttons, anywhere.
      await apiCall(stack.engine, 'PATCH', `/users/${created.body.id}`, { token: adminToken, body: { disabled: false, role: 'viewer' } });
      await uiLogin(v, 'vera', 'vera-password-1');
      await v.getByRole('link', { name: /Approvals/ }).click();
      const listed = v.locator('article.approval-card', { hasText: 'workload_scale' });
      await listed.getByText(/your role \(viewer\) can see this request but not decide it/).waitFor();
      assert.equal(await listed.getByRole('button', { name: 'Approve' }).count(), 0);
      assert.equal(await listed.getByRole('button', { name: 'Deny' }).count(), 0);
      await checkA11y(v, 'approvals page (viewer)');
      await shot(v, '18-viewer-approvals');
      await v.getByRole('link', { name: 'open the conversation' }).click();
      await v.locator('article.approval-card .readonly-note').waitFor();
      assert.equal(await v.locator('article.approval-card button').count(), 0);
      await shot(v, '19-viewer-conversation');
      // The API refuses a viewer's decision too.
      const veraToken = await apiLogin(stack.engine, 'vera', 'vera-password-1');
      const pending = await apiCall(stack.engine, 'GET', '/approvals?status=pending', { token: veraToken });
      const a = pending.body.items[0];
      const refused = await apiCall(stack.engine, 'POST', `/approvals/${a.id}`, { token: veraToken, body: { decision: 'approve', toolCallId: a.toolCallId, previewHash: a.previewHash } });
      assert.equal(refused.status, 403);
      await apiCall(stack.engine, 'POST', `/runs/${a.runId}/stop`, { token: adminToken });
    } finally {
      await vctx.close();
    }
  });

  test('dark theme and a phone-sized screen', async () => {
    await page.goto(`${stack.base}/`);
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    await page.getByRole('button', { name: /^Theme:/ }).click(); // system → light
    await page.getByRole('button', { name: /^Theme:/ }).click(); // light → dark
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    const sidebar = page.getByRole('navigation', { name: 'Conversations' });
    // Admins can list everyone's conversations.
    await sidebar.getByLabel('Everyone’s conversations').check();
    await sidebar.getByRole('link', { name: /scale cart to 2.*by vera/ }).waitFor();
    await sidebar.getByLabel('Everyone’s conversations').uncheck();
    await sidebar.getByRole('link', { name: /scale cart to 2/ }).waitFor({ state: 'detached' });
    await sidebar.getByRole('link', { name: /Cart scaled to four/ }).click();
    await page.getByText('Approved by admin').waitFor();
    await checkA11y(page, 'chat page (dark)');
    await shot(page, '20-dark-theme');
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    try {
      await p.goto(stack.base);
      await uiLogin(p, 'admin', stack.adminPassword);
      await p.getByRole('button', { name: 'History' }).click();
      await p.getByRole('link', { name: /Cart scaled to four/ }).click();
      await p.getByText('Approved by admin').waitFor();
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
      await checkA11y(p, 'chat page (phone)');
      await shot(p, '21-phone');
    } finally {
      await phone.close();
    }
  });

  test('log out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Binnacle Command Center' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Binnacle Command Center' }).waitFor();
    await shot(page, '22-logged-out');
    const refresh = await page.evaluate(async () => (await fetch('/api/v1/auth/refresh', { method: 'POST' })).status);
    assert.equal(refresh, 401, 'the refresh cookie no longer works');
  });
});
