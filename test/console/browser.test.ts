// The console end to end in a real browser (Debian Chromium through playwright-core): a guarded
// agent waits in another process on a shared Redis, people answer in the page.
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { type ConsoleServer, hashPassword, serveConsole } from '../../src/console/index.ts';
import { jsonlAudit } from '../../src/index.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from '../store/redis-env.ts';
import {
  type Agent,
  axeViolations,
  builtPage,
  chromiumPath,
  launch,
  openPage,
  screenshot,
  signIn,
  startAgent,
} from './helpers.ts';

const chromium = chromiumPath();
const redisSkip = chromium.skip === undefined ? await redisSkipReason() : undefined;
const skip = chromium.skip ?? redisSkip;

const PASSWORDS = {
  dana: 'dana-password-1',
  erin: 'erin-password-2',
  ada: 'ada-password-3',
  alice: 'alice-password-4',
};
const VIEWER_TOKEN = 'viewer-token-0123456789abcdef';

// Each scenario drives real browsers against a guard in another process: a loaded machine needs time.
describe.skipIf(skip !== undefined)('console in a browser', { timeout: 60_000 }, () => {
  let browser: Browser;
  let client: Redis;
  let prefix: string;
  let dir: string;
  let agent: Agent;
  let server: ConsoleServer;
  let auditPath: string;
  let actionsPath: string;
  let publicPem: string;
  let assets: string;
  const accounts = [
    { name: 'dana', role: 'approver' as const, passwordHash: hashPassword(PASSWORDS.dana) },
    { name: 'erin', role: 'approver' as const, passwordHash: hashPassword(PASSWORDS.erin) },
    { name: 'ada', role: 'admin' as const, passwordHash: hashPassword(PASSWORDS.ada) },
    { name: 'user:alice', role: 'approver' as const, passwordHash: hashPassword(PASSWORDS.alice) },
    { name: 'vic', role: 'viewer' as const, token: VIEWER_TOKEN },
  ];

  beforeAll(async () => {
    assets = builtPage();
    browser = await launch(chromium.path!);
    client = newClient();
    prefix = uniquePrefix('console');
    dir = mkdtempSync(join(tmpdir(), 'toolgate-console-'));
    auditPath = join(dir, 'audit.jsonl');
    actionsPath = join(dir, 'console.jsonl');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    agent = await startAgent({
      REDIS_URL,
      PREFIX: prefix,
      AUDIT: auditPath,
      AUDIT_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    server = await serveConsole({
      port: 0,
      store: redisStore({ client, prefix }),
      accounts,
      audit: [auditPath, actionsPath],
      auditKeys: { 'test-key': publicPem },
      actionAudit: jsonlAudit({ path: actionsPath }),
      assets,
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.close();
    await browser?.close();
    if (client !== undefined) {
      await deleteKeys(client, prefix);
      client.disconnect();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const login = async (name: string, password: string) => {
    const opened = await openPage(browser);
    await signIn(opened.page, server.url, name, password);
    return opened;
  };
  const card = (page: Page, text: string) => page.locator('article.card', { hasText: text });
  // The file is read while the agent process appends to it: only whole lines (ended by their
  // newline) are records yet; the last piece may be a line still being written.
  const events = (path: string) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{"event":'))
      .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event);

  it('edit then approve: the request appears within a second, the call runs with the edited amount, the audit names the account', async () => {
    const { context, page } = await login('dana', PASSWORDS.dana);
    await page.getByText('Live:').waitFor();
    await screenshot(page, 'inbox-empty');
    const started = Date.now();
    agent.call(
      'edit',
      { orderId: 'o-edit-1', amount: 400, reason: 'damaged' },
      { agent: 'support-bot', principal: 'user:bob' },
    );
    const item = card(page, 'o-edit-1');
    await item.waitFor();
    const latency = Date.now() - started;
    console.log(`inbox: the request appeared ${latency} ms after the call`);
    // It arrives live, not on a reload: pushed on the store's notification, or read again within
    // 500 ms when one is lost. On a quiet machine this measures 100-300 ms; the bound leaves room
    // for a CI host running three suites and a browser on two cores (1.5 s seen there), which is
    // load, not the console (timings belong in benchmarks, not in unit tests).
    expect(latency).toBeLessThan(5000);
    await expect(item.getByText('refunds over 100 EUR need a supervisor')).toBeTruthy();
    await screenshot(page, 'inbox-request');
    expect(await axeViolations(page)).toEqual([]);
    await item.getByRole('button', { name: 'Edit then approve…' }).click();
    const editor = item.getByLabel("Arguments (JSON, checked against the tool's schema)");
    await editor.fill(JSON.stringify({ orderId: 'o-edit-1', amount: -5, reason: 'damaged' }));
    await item.getByText('$.amount must be more than 0').waitFor();
    expect(await item.getByRole('button', { name: 'Approve edited arguments' }).isDisabled()).toBe(true);
    await editor.fill(JSON.stringify({ orderId: 'o-edit-1', amount: 250, reason: 'damaged' }, null, 2));
    await item.getByText('→').waitFor();
    expect((await item.locator('.diff').textContent()) ?? '').toContain('$.amount: 400 → 250');
    await screenshot(page, 'inbox-edit');
    expect(await axeViolations(page)).toEqual([]);
    await item.getByRole('button', { name: 'Approve edited arguments' }).click();
    await item.getByText('Approved. The call continues.').waitFor();
    expect(await agent.result('edit')).toEqual({ refunded: 250, orderId: 'o-edit-1' });
    await waitFor(() => events(auditPath).some((e) => e.type === 'result' && e.outcome === 'ok'));
    const response = events(auditPath).find((e) => e.type === 'approval-response' && e.approved === true);
    expect(response).toMatchObject({ approver: 'dana', edited: true });
    const decision = events(auditPath).find((e) => e.type === 'decision' && e.tool === 'payments.refund');
    expect(decision).toMatchObject({ decision: 'allow', approvers: ['dana'], args: { amount: 250 } });
    const actions = events(actionsPath).filter((e) => e.action === 'approve');
    expect(actions.map((e) => e.outcome)).toEqual(['requested', 'ok']);
    expect(actions[1]).toMatchObject({ account: 'dana', forTool: 'payments.refund' });
    // The call's page: its whole timeline, and its records verify.
    const callId = String(decision!.callId);
    await page.goto(`${server.url}#/call/${callId}`);
    await page.getByText('Its records verify').waitFor();
    await page.getByText(`approval-response`).first().waitFor();
    await screenshot(page, 'call-detail');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('deny with a reason: the model-facing denial carries it', async () => {
    const { context, page } = await login('dana', PASSWORDS.dana);
    agent.call(
      'deny',
      { orderId: 'o-deny-1', amount: 300, reason: 'x' },
      { agent: 'support-bot', principal: 'user:bob' },
    );
    const item = card(page, 'o-deny-1');
    await item.getByRole('button', { name: 'Deny…' }).click();
    await item.getByLabel('Reason (the agent is told)').fill('order was never delivered to this customer');
    await item.getByRole('button', { name: 'Send denial' }).click();
    const denial = (await agent.result('deny')) as Record<string, unknown>;
    expect(denial).toMatchObject({ denied: true, code: 'APPROVAL_DENIED' });
    expect(String(denial.reason)).toContain('order was never delivered to this customer');
    expect(String(denial.reason)).toContain('dana');
    // A call a rule denies: its page names the rule and the condition that failed.
    agent.call('bulk', { count: 50 }, { agent: 'support-bot', principal: 'user:bob' }, 'orders.delete');
    expect(await agent.result('bulk')).toMatchObject({ denied: true, code: 'DENIED_BY_RULE' });
    await waitFor(() => events(auditPath).some((e) => e.type === 'decision' && e.tool === 'orders.delete'));
    const denied = events(auditPath).find((e) => e.type === 'decision' && e.tool === 'orders.delete');
    await page.goto(`${server.url}#/call/${String(denied!.callId)}`);
    await page.getByText('rule: no-bulk-deletes').waitFor();
    const failed = page.getByRole('list', { name: 'Failed conditions' });
    expect(await failed.textContent()).toContain('args.count');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('an approval that times out while the page is open is shown as no longer pending', async () => {
    const { context, page } = await login('erin', PASSWORDS.erin);
    agent.call(
      'timeout',
      { note: 'note-timeout-1' },
      { agent: 'support-bot', principal: 'user:bob' },
      'notes.add',
    );
    const item = card(page, 'note-timeout-1');
    await item.waitFor();
    expect(await agent.result('timeout')).toMatchObject({ denied: true, code: 'APPROVAL_TIMEOUT' });
    await item.getByText('No longer pending').waitFor({ timeout: 15_000 });
    expect(await item.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    // Answering it now, straight at the API, finds nothing pending.
    const id = await item.getAttribute('data-request');
    expect((await apiPost(page, server.url, `api/approvals/${id}/approve`, {})).status).toBe(404);
    await context.close();
  });

  it('a quorum of two in two browser contexts; the requester cannot approve their own call', async () => {
    const first = await openPage(browser);
    const second = await openPage(browser);
    const requester = await openPage(browser);
    await signIn(first.page, server.url, 'dana', PASSWORDS.dana);
    await signIn(second.page, server.url, 'erin', PASSWORDS.erin);
    await signIn(requester.page, server.url, 'user:alice', PASSWORDS.alice);
    agent.call(
      'quorum',
      { orderId: 'o-quorum-1', amount: 2000, reason: 'x' },
      { agent: 'support-bot', principal: 'user:alice' },
    );
    const own = card(requester.page, 'o-quorum-1');
    await own.getByText('you asked for this call').waitFor();
    expect(await own.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    const id = await own.getAttribute('data-request');
    // Even straight at the API, with a valid session and CSRF token: 403, and the request stays open.
    const refused = await apiPost(requester.page, server.url, `api/approvals/${id}/approve`, {});
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('you asked for this call');
    const a = card(first.page, 'o-quorum-1');
    await a.getByText('0 of 2 approvals').waitFor();
    await a.getByRole('button', { name: 'Approve', exact: true }).click();
    await a.getByText('Approved. The call continues.').waitFor();
    const b = card(second.page, 'o-quorum-1');
    await b.getByText('1 of 2 approvals (dana)').waitFor();
    await screenshot(second.page, 'inbox-quorum');
    await b.getByRole('button', { name: 'Approve', exact: true }).click();
    expect(await agent.result('quorum')).toEqual({ refunded: 2000, orderId: 'o-quorum-1' });
    await waitFor(() =>
      events(auditPath).some(
        (e) => e.type === 'decision' && Array.isArray(e.approvers) && e.approvers.length === 2,
      ),
    );
    const decision = events(auditPath).find(
      (e) => e.type === 'decision' && (e.args as { orderId?: string })?.orderId === 'o-quorum-1',
    );
    expect(decision?.approvers).toEqual(['dana', 'erin']);
    for (const p of [first, second, requester]) await p.context.close();
  });

  it('a viewer sees but cannot approve; a missing or forged CSRF token is refused; the request stays open', async () => {
    const viewer = await login('vic', VIEWER_TOKEN);
    agent.call(
      'viewer',
      { orderId: 'o-viewer-1', amount: 150, reason: 'x' },
      { agent: 'support-bot', principal: 'user:bob' },
    );
    const seen = card(viewer.page, 'o-viewer-1');
    await seen.getByText('a viewer cannot answer approvals').waitFor();
    const id = await seen.getAttribute('data-request');
    expect((await apiPost(viewer.page, server.url, `api/approvals/${id}/approve`, {})).status).toBe(403);

    const approver = await login('dana', PASSWORDS.dana);
    for (const token of [undefined, 'forged-token-forged-token-forged-token-xx']) {
      const response = await approver.page.request.post(`${server.url}api/approvals/${id}/approve`, {
        data: {},
        headers: token === undefined ? {} : { 'x-csrf-token': token },
      });
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('CSRF');
    }
    // Still pending: the real answer goes through.
    await card(approver.page, 'o-viewer-1').getByRole('button', { name: 'Approve', exact: true }).click();
    expect(await agent.result('viewer')).toEqual({ refunded: 150, orderId: 'o-viewer-1' });
    await viewer.context.close();
    await approver.context.close();
  });

  it('arguments with markup and script stay inert: no dialog, no request, shown as text', async () => {
    const { context, page, dialogs } = await openPage(browser);
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await signIn(page, server.url, 'dana', PASSWORDS.dana);
    const hostile = {
      orderId: 'o-xss-1"><img src=x onerror=alert(1)>',
      amount: 120,
      reason:
        '<script>alert(2)</script><iframe src="javascript:alert(3)"></iframe><a href="https://evil.example/">x</a>',
    };
    agent.call('xss', hostile, { agent: '<b onmouseover=alert(4)>bot</b>', principal: 'user:bob' });
    const item = card(page, 'o-xss-1');
    await item.waitFor();
    expect((await item.locator('pre.args').textContent()) ?? '').toContain('<script>alert(2)</script>');
    expect((await item.textContent()) ?? '').toContain('<b onmouseover=alert(4)>bot</b>');
    expect(await item.locator('img, script, iframe, b, a[href^="https://evil"]').count()).toBe(0);
    await item.getByRole('button', { name: 'Deny…' }).click();
    await item.getByLabel('Reason (the agent is told)').fill('hostile arguments');
    await item.getByRole('button', { name: 'Send denial' }).click();
    await agent.result('xss');
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    const origin = new URL(server.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
    await context.close();
  });

  it('framing is refused', async () => {
    const response = await fetch(server.url);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const { context, page } = await openPage(browser);
    // A page on another origin (a second loopback address) tries to frame the console.
    const other = server.url.replace('127.0.0.1', 'localhost');
    await page.route(`${other}frame-test`, (route) =>
      route.fulfill({ contentType: 'text/html', body: `<iframe id="f" src="${server.url}"></iframe>` }),
    );
    await page.goto(`${other}frame-test`);
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const framed =
      frame === undefined
        ? ''
        : String(await frame.evaluate('document.body?.innerText ?? ""').catch(() => ''));
    expect(framed).not.toContain('Sign in');
    await context.close();
  });

  it('keyboard only: sign in and approve without a mouse', async () => {
    const { context, page } = await openPage(browser);
    await page.goto(server.url);
    await page.getByLabel('Name').waitFor();
    await page.keyboard.type('erin');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORDS.erin);
    await page.keyboard.press('Enter');
    await page.getByText('Live:').waitFor();
    agent.call(
      'keys',
      { orderId: 'o-keys-1', amount: 130, reason: 'x' },
      { agent: 'support-bot', principal: 'user:bob' },
    );
    const item = card(page, 'o-keys-1');
    await item.waitFor();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(
        '(() => { const el = document.activeElement; return (el?.textContent ?? "") + "|" + String(el?.closest("article")?.textContent?.includes("o-keys-1") ?? false); })()',
      );
      if (focused === 'Approve|true') break;
    }
    await page.keyboard.press('Enter');
    expect(await agent.result('keys')).toEqual({ refunded: 130, orderId: 'o-keys-1' });
    await context.close();
  });

  it('the audit and control pages, with no serious accessibility problems; a tampered file turns the badge red', async () => {
    const { context, page } = await login('ada', PASSWORDS.ada);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByText('Calls and denials over time').waitFor();
    await page.locator('#badge[data-state="ok"]').waitFor();
    await screenshot(page, 'audit');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Control' }).click();
    await page.getByRole('heading', { name: 'Grants' }).waitFor();
    await page.getByLabel('Name').fill('support-bot');
    await page.getByLabel('Reason').fill('incident 42');
    await page.getByRole('button', { name: 'Suspend', exact: true }).click();
    await page.getByRole('cell', { name: 'agent support-bot' }).waitFor();
    await screenshot(page, 'control');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('cell', { name: 'agent support-bot' }).waitFor({ state: 'detached' });
    expect(
      events(actionsPath)
        .filter((e) => e.action === 'suspend')
        .map((e) => e.outcome),
    ).toEqual(['requested', 'ok']);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();

    // A copy of the log with one amount changed: the console reading it shows red.
    const tampered = join(dir, 'tampered.jsonl');
    copyFileSync(auditPath, tampered);
    writeFileSync(tampered, readFileSync(tampered, 'utf8').replace('"amount":2000', '"amount":20'));
    const second = await serveConsole({
      port: 0,
      store: redisStore({ client, prefix }),
      accounts,
      audit: tampered,
      auditKeys: { 'test-key': publicPem },
      actionAudit: [],
      assets,
    });
    try {
      const view = await openPage(browser);
      await signIn(view.page, second.url, 'ada', PASSWORDS.ada);
      await view.page.locator('#badge[data-state="failed"]').waitFor();
      expect((await view.page.locator('#badge').textContent()) ?? '').toContain('hash_mismatch');
      await view.page.getByRole('link', { name: 'Audit' }).click();
      await view.page.locator('li.badge.bad').waitFor();
      await screenshot(view.page, 'audit-tampered');
      await view.context.close();
    } finally {
      await second.close();
    }
  });
});

async function apiPost(
  page: Page,
  base: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  const session = (await (await page.request.get(`${base}api/session`)).json()) as { csrf: string };
  const response = await page.request.post(`${base}${path}`, {
    data: body,
    headers: { 'x-csrf-token': session.csrf },
  });
  return { status: response.status(), body: await response.text() };
}

async function waitFor(test: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
