// What the console forwards to the guard cannot do more than an answer in the console may: an
// edit runs exactly as approved, and a grant remembered here never answers its approver's own call.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ConsoleAccount,
  consoleApprover,
  consoleHandler,
  hashPassword,
} from '../../src/console/index.ts';
import { createGuard, memoryAudit, memoryStore, rules } from '../../src/index.ts';

const BASE = 'http://127.0.0.1:4000';
const accounts: ConsoleAccount[] = [
  { name: 'finance:alice', role: 'approver', passwordHash: hashPassword('alice-pass') },
  { name: 'finance:bob', role: 'approver', passwordHash: hashPassword('bob-pass') },
  { name: 'support:eve', role: 'approver', passwordHash: hashPassword('eve-pass') },
];

function setup(approval: Record<string, unknown> = {}) {
  const store = memoryStore();
  const audit = memoryAudit();
  const tg = createGuard({
    policy: rules([
      { id: 'refund', effect: 'ask', tool: 'payments.*', approval: { timeout: '2s', ...approval } },
    ]),
    store,
    audit,
    approver: consoleApprover({ store, pollMs: 20 }),
    onDeny: 'return',
  });
  const handler = consoleHandler({ store, accounts, actionAudit: memoryAudit() });
  return { tg, audit, handler };
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
  const csrf = ((await response.json()) as { csrf: string }).csrf;
  return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0]!, csrf };
}

function post(handler: Handler, path: string, who: { cookie: string; csrf: string }, body: unknown) {
  return handler(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      headers: { cookie: who.cookie, 'content-type': 'application/json', 'x-csrf-token': who.csrf },
      body: JSON.stringify(body),
    }),
  );
}

async function pending(handler: Handler, who: { cookie: string }) {
  for (let i = 0; i < 200; i++) {
    const response = await handler(new Request(`${BASE}/api/approvals`, { headers: { cookie: who.cookie } }));
    const { items } = (await response.json()) as { items: Record<string, unknown>[] };
    if (items.length > 0) return items[0]!;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('nothing pending');
}

describe('edits in the console', () => {
  it("are not offered (canEdit false, 400) when the tool's schema transforms the args; approving as shown works", async () => {
    const { tg, handler } = setup();
    const Refund = z.object({
      orderId: z.string(),
      amountCents: z.number().transform((dollars) => Math.round(dollars * 100)),
    });
    const ran: unknown[] = [];
    const refund = tg.guard(
      async (args: unknown) => {
        ran.push(args);
        return 'ok';
      },
      { name: 'payments.refund', input: Refund },
    );
    const alice = await signIn(handler, 'finance:alice', 'alice-pass');
    const result = refund({ orderId: 'o1', amountCents: 4 }, { context: { principal: 'user:bob' } });
    const item = await pending(handler, alice);
    expect(item).toMatchObject({ args: { orderId: 'o1', amountCents: 400 }, canEdit: false });
    const path = `/api/approvals/${String(item.id)}/approve`;
    const edit = await post(handler, path, alice, { args: { orderId: 'o1', amountCents: 250 } });
    expect(edit.status).toBe(400);
    expect(((await edit.json()) as { error: string }).error).toContain('transforms');
    expect((await post(handler, path, alice, {})).status).toBe(200);
    await expect(result).resolves.toBe('ok');
    expect(ran).toEqual([{ orderId: 'o1', amountCents: 400 }]);
  });

  it('a schema the console cannot judge (async) is still refused by the guard: the tool does not run', async () => {
    const { tg, handler, audit } = setup();
    const Refund = z.object({
      amountCents: z.number().transform(async (dollars) => Math.round(dollars * 100)),
    });
    const ran: unknown[] = [];
    const refund = tg.guard(
      async (args: unknown) => {
        ran.push(args);
        return 'ok';
      },
      { name: 'payments.refund', input: Refund },
    );
    const alice = await signIn(handler, 'finance:alice', 'alice-pass');
    const result = refund({ amountCents: 4 }, { context: { principal: 'user:bob' } });
    const item = await pending(handler, alice);
    expect(item.canEdit).toBe(true);
    const path = `/api/approvals/${String(item.id)}/approve`;
    expect((await post(handler, path, alice, { args: { amountCents: 250 } })).status).toBe(200);
    await expect(result).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
    expect(ran).toEqual([]);
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({ decision: 'deny' });
  });
});

describe('a grant remembered in the console', () => {
  it('never answers a call of the account that remembered it, whatever its scope', async () => {
    const { tg, handler, audit } = setup({ approvers: ['finance:*'] });
    const ran: unknown[] = [];
    const wire = tg.guard(
      async (args: unknown) => {
        ran.push(args);
        return 'sent';
      },
      { name: 'payments.wire' },
    );
    const alice = await signIn(handler, 'finance:alice', 'alice-pass');
    const other = wire({ to: 'acct-2' }, { context: { principal: 'user:carl', agent: 'bot' } });
    const item = await pending(handler, alice);
    const remember = { for: '24h', scope: { principal: 'any', agent: 'any', args: 'any' } };
    expect(
      (await post(handler, `/api/approvals/${String(item.id)}/approve`, alice, { remember })).status,
    ).toBe(200);
    await expect(other).resolves.toBe('sent');
    // Another person's call runs on it…
    await expect(wire({ to: 'acct-3' }, { context: { principal: 'user:dan', agent: 'bot' } })).resolves.toBe(
      'sent',
    );
    // …Alice's own does not: it waits for someone else in the console, as principal or as agent.
    const own = wire({ to: 'acct-evil' }, { context: { principal: 'finance:alice', agent: 'bot' } });
    const asked = await pending(handler, alice);
    expect(asked.answer).toMatchObject({ allowed: false });
    await expect(own).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    const asAgent = wire({ to: 'acct-evil' }, { context: { principal: 'user:dan', agent: 'finance:alice' } });
    await pending(handler, alice);
    await expect(asAgent).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(ran).toEqual([{ to: 'acct-2' }, { to: 'acct-3' }]);
    expect(audit.events.filter((e) => e.type === 'grant-used')).toHaveLength(1);
  });
});

describe('who may deny in the console', () => {
  it("an account outside the rule's approvers cannot deny (403, the page says so); the request stays open", async () => {
    const { tg, handler } = setup({ approvers: ['finance:*'] });
    const ran: unknown[] = [];
    const refund = tg.guard(
      async (args: unknown) => {
        ran.push(args);
        return 'ok';
      },
      { name: 'payments.refund' },
    );
    const eve = await signIn(handler, 'support:eve', 'eve-pass');
    const alice = await signIn(handler, 'finance:alice', 'alice-pass');
    const result = refund({ amount: 5 }, { context: { principal: 'user:carl' } });
    const item = await pending(handler, eve);
    expect(item.answer).toMatchObject({ allowed: false });
    const denied = await post(handler, `/api/approvals/${String(item.id)}/deny`, eve, { reason: 'no' });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: string }).error).toContain('not among the approvers');
    expect((await post(handler, `/api/approvals/${String(item.id)}/approve`, alice, {})).status).toBe(200);
    await expect(result).resolves.toBe('ok');
    expect(ran).toEqual([{ amount: 5 }]);
  });
});

describe('edited arguments the guard could not read', () => {
  it('nested too deep or holding a number JSON cannot carry are refused with 400; the request stays open', async () => {
    const { tg, handler } = setup();
    const refund = tg.guard(async () => 'ok', { name: 'payments.refund' });
    const alice = await signIn(handler, 'finance:alice', 'alice-pass');
    const result = refund({ note: 1 }, { context: { principal: 'user:bob' } });
    const item = await pending(handler, alice);
    const path = `/api/approvals/${String(item.id)}/approve`;
    const send = (body: string) =>
      handler(
        new Request(`${BASE}${path}`, {
          method: 'POST',
          headers: { cookie: alice.cookie, 'content-type': 'application/json', 'x-csrf-token': alice.csrf },
          body,
        }),
      );
    const depth = 100_000;
    for (const body of [
      `{"args":{"note":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
      '{"args":{"note":1e400}}',
    ]) {
      const response = await send(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toContain('edited arguments');
    }
    expect((await post(handler, path, alice, {})).status).toBe(200);
    await expect(result).resolves.toBe('ok');
  });
});
