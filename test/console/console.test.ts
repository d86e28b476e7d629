// The console's HTTP surface without a browser: accounts, sessions, CSRF, roles, headers, limits,
// the answers it forwards to the guard, and what it records.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ConsoleAccount,
  consoleApprover,
  consoleHandler,
  hashPassword,
} from '../../src/console/index.ts';
import {
  type AuditSink,
  ConfigurationError,
  createGuard,
  jsonlAudit,
  memoryAudit,
  memoryStore,
  rules,
  type StateStore,
} from '../../src/index.ts';

const BASE = 'http://127.0.0.1:4000';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const accounts: ConsoleAccount[] = [
  { name: 'dana', role: 'approver', passwordHash: hashPassword('dana-pass') },
  { name: 'ada', role: 'admin', passwordHash: hashPassword('ada-pass') },
  { name: 'user:alice', role: 'approver', passwordHash: hashPassword('alice-pass') },
  { name: 'vic', role: 'viewer', token: 'viewer-token-0123456789' },
  { name: 'ops:eve', role: 'approver', passwordHash: hashPassword('eve-pass') },
];

function setup(options: { actionAudit?: AuditSink | AuditSink[]; approval?: Record<string, unknown> } = {}) {
  const store = memoryStore();
  const actions = memoryAudit();
  const audit = memoryAudit();
  const tg = createGuard({
    policy: rules([
      {
        id: 'refund',
        effect: 'ask',
        tool: 'payments.refund',
        approval: { timeout: '20s', ...options.approval },
      },
    ]),
    store,
    audit,
    approver: consoleApprover({ store, pollMs: 20 }),
    onDeny: 'return',
  });
  const Refund = z.object({ orderId: z.string(), amount: z.number().positive() }).strict();
  const refund = tg.guard(async (args: z.infer<typeof Refund>) => ({ refunded: args.amount }), {
    name: 'payments.refund',
    input: Refund,
  });
  const handler = consoleHandler({ store, accounts, guard: tg, actionAudit: options.actionAudit ?? actions });
  return { store, tg, refund, handler, actions, audit };
}

type Handler = ReturnType<typeof setup>['handler'];

async function signIn(handler: Handler, name: string, password: string) {
  const response = await handler(
    new Request(`${BASE}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE },
      body: JSON.stringify({ name, password }),
    }),
  );
  const cookie = response.headers.get('set-cookie') ?? '';
  const body = (await response.json()) as { csrf?: string; error?: string };
  return {
    status: response.status,
    cookie: cookie.split(';')[0] ?? '',
    setCookie: cookie,
    csrf: body.csrf ?? '',
    body,
  };
}

function call(
  handler: Handler,
  path: string,
  who: { cookie: string; csrf?: string },
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return handler(
    new Request(`${BASE}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        cookie: who.cookie,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(who.csrf === undefined ? {} : { 'x-csrf-token': who.csrf }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

async function pending(handler: Handler, who: { cookie: string }, count = 1) {
  for (let i = 0; i < 200; i++) {
    const { items } = (await (await call(handler, '/api/approvals', who)).json()) as {
      items: Record<string, unknown>[];
    };
    if (items.length >= count) return items;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('nothing pending');
}

describe('accounts', () => {
  it('hashPassword makes scrypt hashes that verify only the same password', async () => {
    const hash = hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(hashPassword('correct horse')).not.toBe(hash);
    const { handler } = setup();
    expect((await signIn(handler, 'dana', 'dana-pass')).status).toBe(200);
    expect((await signIn(handler, 'dana', 'dana-pas')).status).toBe(401);
    expect((await signIn(handler, 'nobody', 'dana-pass')).status).toBe(401);
    expect((await signIn(handler, 'vic', 'viewer-token-0123456789')).status).toBe(200);
    expect((await signIn(handler, 'vic', 'viewer-token-012345678')).status).toBe(401);
  });

  it('refuses malformed accounts at construction', () => {
    const store = memoryStore();
    const bad: unknown[] = [
      [],
      [{ name: 'a', role: 'root', token: 'x'.repeat(20) }],
      [{ name: 'a', role: 'viewer', token: 'short' }],
      [{ name: 'a', role: 'viewer', token: 'x'.repeat(20), passwordHash: hashPassword('p') }],
      [{ name: 'a', role: 'viewer', passwordHash: 'plain-text' }],
      [{ name: 'a\u200b', role: 'viewer', token: 'x'.repeat(20) }],
      [{ name: 'a\u034f', role: 'viewer', token: 'x'.repeat(20) }],
      [{ name: 'a\u3164', role: 'viewer', token: 'x'.repeat(20) }],
      [{ name: 'a\u00a0b', role: 'viewer', token: 'x'.repeat(20) }],
      [{ name: ' a', role: 'viewer', token: 'x'.repeat(20) }],
      [{ name: 'a', role: 'viewer', token: 'x'.repeat(20), extra: 1 }],
      [
        { name: 'a', role: 'viewer', token: 'x'.repeat(20) },
        { name: 'a', role: 'admin', token: 'y'.repeat(20) },
      ],
    ];
    for (const list of bad)
      expect(
        () => consoleHandler({ store, accounts: list as ConsoleAccount[] }),
        JSON.stringify(list),
      ).toThrow(ConfigurationError);
    expect(() => consoleHandler({ store, accounts, unknown: 1 } as never)).toThrow(ConfigurationError);
  });

  it('reads accounts from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-'));
    dirs.push(dir);
    const file = join(dir, 'accounts.json');
    writeFileSync(
      file,
      JSON.stringify({ accounts: [{ name: 'ann', role: 'viewer', token: 't'.repeat(20) }] }),
    );
    const handler = consoleHandler({ store: memoryStore(), accounts: file, actionAudit: memoryAudit() });
    expect((await signIn(handler, 'ann', 't'.repeat(20))).status).toBe(200);
  });
});

describe('sessions and requests', () => {
  it('every response carries a strict CSP, refuses framing and is not cached', async () => {
    const { handler } = setup();
    for (const path of ['/', '/api/session', '/api/approvals', '/nope']) {
      const response = await handler(new Request(`${BASE}${path}`));
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('the session cookie is HttpOnly and SameSite=Strict, and Secure behind TLS', async () => {
    const { handler } = setup();
    const plain = await signIn(handler, 'dana', 'dana-pass');
    expect(plain.setCookie).toMatch(
      /^toolgate-session=[\w-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/,
    );
    const store = memoryStore();
    const tls = consoleHandler({
      store,
      accounts,
      origin: 'https://console.example.com',
      actionAudit: memoryAudit(),
    });
    const response = await tls(
      new Request(`${BASE}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://console.example.com' },
        body: JSON.stringify({ name: 'dana', password: 'dana-pass' }),
      }),
    );
    expect(response.headers.get('set-cookie')).toMatch(
      /^__Host-toolgate-session=.*; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
  });

  it('sign-in is refused from another origin and throttled after repeated failures', async () => {
    const { handler, actions } = setup();
    const cross = await handler(
      new Request(`${BASE}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ name: 'dana', password: 'dana-pass' }),
      }),
    );
    expect(cross.status).toBe(403);
    for (let i = 0; i < 5; i++) expect((await signIn(handler, 'dana', 'wrong')).status).toBe(401);
    const limited = await signIn(handler, 'dana', 'dana-pass');
    expect(limited.status).toBe(429);
    const failures = actions.events.filter((e) => e.type === 'console' && e.action === 'sign-in');
    expect(failures.map((e) => (e as { outcome: string }).outcome)).toEqual([
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
    ]);
    // Another name is not locked out by these failures.
    expect((await signIn(handler, 'ada', 'ada-pass')).status).toBe(200);
  });

  it('state changes need the session CSRF token; roles gate answers, revocations and suspensions', async () => {
    const { handler, refund } = setup();
    const viewer = await signIn(handler, 'vic', 'viewer-token-0123456789');
    const approver = await signIn(handler, 'dana', 'dana-pass');
    const admin = await signIn(handler, 'ada', 'ada-pass');
    const result = refund(
      { orderId: 'o-1', amount: 50 },
      { context: { principal: 'user:bob', agent: 'bot' } },
    );
    const [item] = await pending(handler, viewer);
    const path = `/api/approvals/${String(item!.id)}/approve`;
    expect((await call(handler, path, { cookie: approver.cookie }, {})).status).toBe(403);
    expect((await call(handler, path, { cookie: approver.cookie, csrf: admin.csrf }, {})).status).toBe(403);
    expect((await call(handler, path, { cookie: 'toolgate-session=forged' }, {})).status).toBe(401);
    expect((await call(handler, path, viewer, {})).status).toBe(403);
    expect((await call(handler, '/api/suspensions', approver, { field: 'agent', value: 'bot' })).status).toBe(
      403,
    );
    expect((await call(handler, '/api/suspensions', admin, { field: 'agent', value: 'bot' })).status).toBe(
      200,
    );
    expect(
      (await call(handler, '/api/suspensions/resume', admin, { field: 'agent', value: 'bot' })).status,
    ).toBe(200);
    const cross = await call(handler, path, approver, {}, { origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    // Still pending after all of that: the real answer goes through.
    expect((await call(handler, path, approver, {})).status).toBe(200);
    await expect(result).resolves.toEqual({ refunded: 50 });
  });

  it('refuses bodies over the limit and the wrong content type', async () => {
    const { handler } = setup();
    const dana = await signIn(handler, 'dana', 'dana-pass');
    const big = await call(handler, '/api/approvals/x/deny', dana, { reason: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    const form = await handler(
      new Request(`${BASE}/api/approvals/x/deny`, {
        method: 'POST',
        headers: { cookie: dana.cookie, 'x-csrf-token': dana.csrf, 'content-type': 'text/plain' },
        body: 'reason=x',
      }),
    );
    expect(form.status).toBe(415);
  });

  it('mounts under a base path', async () => {
    const handler = consoleHandler({
      store: memoryStore(),
      accounts,
      basePath: '/console',
      actionAudit: memoryAudit(),
    });
    const bare = await handler(new Request(`${BASE}/console`));
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/console/');
    expect((await handler(new Request(`${BASE}/console/`))).headers.get('content-type')).toContain(
      'text/html',
    );
    expect((await handler(new Request(`${BASE}/api/session`))).status).toBe(404);
    const response = await handler(
      new Request(`${BASE}/console/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'ada', password: 'ada-pass' }),
      }),
    );
    expect(response.headers.get('set-cookie')).toContain('Path=/console;');
  });

  it('signing out ends the session everywhere', async () => {
    const { handler } = setup();
    const dana = await signIn(handler, 'dana', 'dana-pass');
    expect((await call(handler, '/api/session', dana)).status).toBe(200);
    expect((await call(handler, '/api/session/end', dana, {})).status).toBe(200);
    expect((await call(handler, '/api/session', dana)).status).toBe(401);
  });
});

describe('answers', () => {
  it('the approver recorded is the account, never a field of the request', async () => {
    const { handler, refund, audit, actions } = setup();
    const dana = await signIn(handler, 'dana', 'dana-pass');
    const result = refund({ orderId: 'o-1', amount: 50 }, { context: { principal: 'user:bob' } });
    const [item] = await pending(handler, dana);
    const path = `/api/approvals/${String(item!.id)}/approve`;
    expect((await call(handler, path, dana, { approver: 'ceo' })).status).toBe(400);
    expect((await call(handler, path, dana, {})).status).toBe(200);
    await result;
    const response = audit.events.find((e) => e.type === 'approval-response');
    expect(response).toMatchObject({ approver: 'dana', approved: true });
    const approve = actions.events.filter((e) => e.type === 'console' && e.action === 'approve');
    expect(approve.map((e) => (e as { outcome: string }).outcome)).toEqual(['requested', 'ok']);
    // With the guard, the control page shows its policy.
    const policy = (await (await call(handler, '/api/policy', dana)).json()) as {
      available: boolean;
      rules: { id: string }[];
    };
    expect(policy).toMatchObject({
      available: true,
      engine: 'rules',
      rules: [{ id: 'refund', effect: 'ask' }],
    });
  });

  it('a requester cannot answer their own call (403) and the request stays open; approver globs hold', async () => {
    const { handler, refund } = setup({ approval: { approvers: ['ops:*', 'dana'] } });
    const alice = await signIn(handler, 'user:alice', 'alice-pass');
    const eve = await signIn(handler, 'ops:eve', 'eve-pass');
    const ada = await signIn(handler, 'ada', 'ada-pass');
    const result = refund({ orderId: 'o-2', amount: 50 }, { context: { principal: 'user:alice' } });
    const [item] = await pending(handler, alice);
    expect(item!.answer).toEqual({
      allowed: false,
      why: 'you asked for this call; someone else must answer it',
    });
    const base = `/api/approvals/${String(item!.id)}`;
    expect((await call(handler, `${base}/approve`, alice, {})).status).toBe(403);
    expect((await call(handler, `${base}/deny`, alice, { reason: 'no' })).status).toBe(403);
    expect((await call(handler, `${base}/approve`, ada, {})).status).toBe(403);
    expect((await call(handler, `${base}/approve`, eve, {})).status).toBe(200);
    await expect(result).resolves.toEqual({ refunded: 50 });
  });

  it('edits are checked against the schema (422) before they reach the guard, and re-decided there', async () => {
    const { handler, refund, audit } = setup();
    const dana = await signIn(handler, 'dana', 'dana-pass');
    const result = refund({ orderId: 'o-3', amount: 400 }, { context: { principal: 'user:bob' } });
    const [item] = await pending(handler, dana);
    expect(item!.inputSchema).toMatchObject({ type: 'object', required: ['orderId', 'amount'] });
    const path = `/api/approvals/${String(item!.id)}/approve`;
    const bad = await call(handler, path, dana, { args: { orderId: 'o-3', amount: -1 } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { error: string }).error).toContain('$.amount must be more than 0');
    expect(
      (await call(handler, path, dana, { args: { orderId: 'o-3', amount: 1, extra: true } })).status,
    ).toBe(422);
    expect((await call(handler, path, dana, { args: { orderId: 'o-3', amount: 250 } })).status).toBe(200);
    await expect(result).resolves.toEqual({ refunded: 250 });
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({
      decision: 'allow',
      args: { amount: 250 },
    });
  });

  it('under a quorum, edits and remember are refused; distinct accounts complete it', async () => {
    const { handler, refund, audit } = setup({ approval: { quorum: 2 } });
    const dana = await signIn(handler, 'dana', 'dana-pass');
    const eve = await signIn(handler, 'ops:eve', 'eve-pass');
    const result = refund({ orderId: 'o-4', amount: 10 }, { context: { principal: 'user:bob' } });
    const [item] = await pending(handler, dana);
    expect(item).toMatchObject({ quorum: 2, canEdit: false, canRemember: false });
    const path = `/api/approvals/${String(item!.id)}/approve`;
    expect((await call(handler, path, dana, { args: { orderId: 'o-4', amount: 1 } })).status).toBe(400);
    expect((await call(handler, path, dana, { remember: { for: '1h' } })).status).toBe(400);
    expect((await call(handler, path, dana, {})).status).toBe(200);
    for (let i = 0; i < 100; i++) {
      const [next] = await pending(handler, dana);
      if ((next!.approvedBy as string[]).length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const again = await call(handler, path, dana, {});
    expect(again.status).toBe(403);
    expect(((await again.json()) as { error: string }).error).toContain('already approved');
    expect((await call(handler, path, eve, {})).status).toBe(200);
    await expect(result).resolves.toEqual({ refunded: 10 });
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({ approvers: ['dana', 'ops:eve'] });
  });

  it('approve and remember issues a grant an admin can list and revoke', async () => {
    const { handler, refund } = setup();
    const dana = await signIn(handler, 'dana', 'dana-pass');
    const ada = await signIn(handler, 'ada', 'ada-pass');
    const first = refund({ orderId: 'o-5', amount: 5 }, { context: { principal: 'user:bob', agent: 'bot' } });
    const [item] = await pending(handler, dana);
    const path = `/api/approvals/${String(item!.id)}/approve`;
    expect((await call(handler, path, dana, { remember: { for: '99d' } })).status).toBe(400);
    expect(
      (await call(handler, path, dana, { remember: { for: '1h', scope: { args: 'any' } } })).status,
    ).toBe(200);
    await first;
    await expect(
      refund({ orderId: 'o-6', amount: 6 }, { context: { principal: 'user:bob', agent: 'bot' } }),
    ).resolves.toEqual({
      refunded: 6,
    });
    const { grants } = (await (await call(handler, '/api/grants', dana)).json()) as {
      grants: { id: string }[];
    };
    expect(grants).toHaveLength(1);
    expect((await call(handler, `/api/grants/${grants[0]!.id}/revoke`, dana, {})).status).toBe(403);
    expect((await call(handler, `/api/grants/${grants[0]!.id}/revoke`, ada, {})).status).toBe(200);
    expect((await call(handler, `/api/grants/${grants[0]!.id}/revoke`, ada, {})).status).toBe(404);
  });

  it('nothing happens when the action cannot be recorded (503)', async () => {
    const failing: AuditSink = {
      name: 'broken',
      write() {
        throw new Error('disk full');
      },
    };
    const { handler, refund } = setup({ actionAudit: failing });
    const error = console.error;
    console.error = () => {};
    try {
      expect((await signIn(handler, 'dana', 'dana-pass')).status).toBe(503);
    } finally {
      console.error = error;
    }
    expect(refund).toBeTypeOf('function');
  });
});

describe('audit files', () => {
  it('verifies rotated sets with a JWK Set, reads every file, and reports tampering with its code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-audit-'));
    dirs.push(dir);
    const path = join(dir, 'audit.jsonl');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sink = jsonlAudit({
      path,
      rotate: { maxBytes: 2000 },
      checkpoint: { privateKey, keyId: 'k1', every: 3 },
    });
    const store = memoryStore();
    const tg = createGuard({
      policy: rules([{ id: 'all', effect: 'allow', tool: '*' }]),
      audit: sink,
      store,
    });
    const tool = tg.guard(async () => 'ok', { name: 'db.query' });
    for (let i = 0; i < 30; i++) await tool({ n: i }, { context: { agent: 'bot' } });
    await tg.close();
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };
    const handler = consoleHandler({
      store,
      accounts,
      audit: path,
      auditKeys: { keys: [jwk] },
      actionAudit: memoryAudit(),
    });
    const ada = await signIn(handler, 'ada', 'ada-pass');
    const page = (await (await call(handler, '/api/audit?tool=db.*', ada)).json()) as {
      total: number;
      logs: { state: string; files: number; keys: string[] }[];
    };
    expect(page.logs[0]).toMatchObject({ state: 'ok', keys: ['k1'] });
    expect(page.logs[0]!.files).toBeGreaterThan(1);
    expect(page.total).toBe(60);
    const csv = await (await call(handler, '/api/audit/export?format=csv&type=decision', ada)).text();
    expect(csv.trim().split('\n')).toHaveLength(31);
    // Without keys, signatures are reported unchecked, not tampered.
    const unkeyed = consoleHandler({ store, accounts, audit: path, actionAudit: memoryAudit() });
    const s2 = (await (
      await call(unkeyed, '/api/audit/status', await signIn(unkeyed, 'ada', 'ada-pass'))
    ).json()) as {
      logs: { state: string }[];
    };
    expect(s2.logs[0]!.state).toBe('unchecked');
    // One changed byte in one file of the set.
    const { auditLogFiles } = await import('../../src/audit/files.ts');
    const victim = auditLogFiles(path).find((file) => readFileSync(file, 'utf8').includes('"agent":"bot"'))!;
    writeFileSync(victim, readFileSync(victim, 'utf8').replace('"agent":"bot"', '"agent":"bat"'));
    const status = (await (await call(handler, '/api/audit/status', ada)).json()) as {
      logs: { state: string; code: string }[];
    };
    expect(status.logs[0]).toMatchObject({ state: 'failed', code: 'hash_mismatch' });
  });
});

// A store without channels: the inbox still updates, by polling.
describe('stores without subscribe and notify', () => {
  it('the live watch falls back to polling', async () => {
    const { QueueWatch } = await import('../../src/console/live.ts');
    const store = memoryStore() as Partial<StateStore>;
    const bare = { ...store, subscribe: undefined, notify: undefined } as unknown as StateStore;
    const watch = new QueueWatch(bare, 20);
    let wakes = 0;
    const stop = watch.add(() => {
      wakes += 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    stop();
    expect(wakes).toBeGreaterThan(2);
  });
});
