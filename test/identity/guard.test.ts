import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { delegateCredential, issueCredential, verifyCredential } from '../../src/identity/index.ts';
import {
  ConfigurationError,
  createGuard,
  type Decision,
  type DecisionEvent,
  type GuardOptions,
  memoryAudit,
  memoryStore,
  type PolicyEngine,
  rules,
  type ToolRequest,
} from '../../src/index.ts';
import { scriptedApprover } from '../../src/testing/fakes.ts';
import { base64url, claims, craft, otherKeys, parts, setup } from './helpers.ts';

// The guard's `identity` option (src/core/steps/verify.ts): credentials verified before the
// policy, their claims in the context, revocations in the limits step's admit.

const ALLOW_ALL = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

async function guarded(options: Partial<GuardOptions> & { require?: boolean; separateStore?: boolean } = {}) {
  const env = await setup();
  const audit = memoryAudit();
  const seen: ToolRequest[] = [];
  const policy = options.policy ?? ALLOW_ALL;
  const spying: PolicyEngine = {
    name: 'spy',
    evaluate(request) {
      seen.push(request);
      return policy.evaluate(request, { signal: new AbortController().signal });
    },
  };
  const tg = createGuard({
    policy: spying,
    audit,
    now: env.clock.now,
    store: options.separateStore ? memoryStore() : env.store,
    identity: {
      keys: env.keys,
      registry: env.registry,
      audience: 'shop',
      ...(options.require === undefined ? {} : { require: options.require }),
    },
    ...(options.approver === undefined ? {} : { approver: options.approver }),
  });
  const runs: unknown[] = [];
  const query = tg.guard(
    (args: { q: string }, { context }) => {
      runs.push(context);
      return { rows: [args.q] };
    },
    { name: 'db.query' },
  );
  const refund = tg.guard(() => 'refunded', { name: 'payments.refund' });
  const issue = (overrides: Partial<Parameters<typeof issueCredential>[1]> = {}) =>
    issueCredential(env.authority, {
      agent: 'support-bot',
      principal: 'user:42',
      intent: 'ticket-123',
      tools: ['db.query'],
      ttl: '10m',
      audience: 'shop',
      ...overrides,
    });
  const decisions = () => audit.events.filter((e): e is DecisionEvent => e.type === 'decision');
  return { ...env, tg, audit, seen, runs, query, refund, issue, decisions };
}

/** The code a call gets (undefined when it ran), and the code `check()` gives for the same call. */
async function codes(
  t: Awaited<ReturnType<typeof guarded>>,
  token: string | undefined,
  context: Record<string, unknown> = {},
  tool: 'db.query' | 'payments.refund' = 'db.query',
): Promise<{ call: string | undefined; check: string | undefined }> {
  const ctx = token === undefined ? context : { ...context, credential: token };
  const fn = tool === 'db.query' ? t.query : t.refund;
  const call = await fn({ q: 'x' } as never, { context: ctx }).then(
    () => undefined,
    (error: { code: string }) => error.code,
  );
  const decision: Decision = await t.tg.check(tool, { q: 'x' }, ctx);
  return { call, check: decision.type === 'deny' ? decision.code : undefined };
}

describe('createGuard({ identity })', () => {
  it('verifies the credential, sets the context from its claims, and never shows the token', async () => {
    const t = await guarded();
    const token = await t.issue();
    await t.tg.withCredential(token, () => t.query({ q: 'a' }));
    expect(t.runs[0]).toEqual({
      agent: 'support-bot',
      principal: 'user:42',
      intent: 'ticket-123',
      verified: true,
      credentialId: parts(token).payload.jti,
    });
    expect(t.seen[0]!.context).toMatchObject({ verified: true, credentialId: parts(token).payload.jti });
    const [decision] = t.decisions();
    expect(decision).toMatchObject({
      decision: 'allow',
      agent: 'support-bot',
      principal: 'user:42',
      verified: true,
      credentialId: parts(token).payload.jti,
      keyId: 'k1',
    });
    // Per call, too.
    await t.query({ q: 'b' }, { context: { credential: token } });
    expect(t.runs).toHaveLength(2);
    const signature = token.split('.')[2]!;
    for (const shown of [JSON.stringify(t.audit.events), JSON.stringify(t.seen), JSON.stringify(t.runs)])
      expect(shown).not.toContain(signature);
  });

  it('denies a call without a credential (UNAUTHENTICATED), unless require is false', async () => {
    const t = await guarded();
    expect(await codes(t, undefined)).toEqual({ call: 'UNAUTHENTICATED', check: 'UNAUTHENTICATED' });
    expect(t.runs).toHaveLength(0);
    const open = await guarded({ require: false });
    expect(await codes(open, undefined, { principal: 'user:7' })).toEqual({
      call: undefined,
      check: undefined,
    });
    expect(open.decisions()[0]).toMatchObject({ verified: false, principal: 'user:7' });
  });

  it('refuses forged, foreign, algorithm-confused and tampered tokens (CREDENTIAL_INVALID)', async () => {
    const t = await guarded();
    const token = await t.issue();
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const other = await otherKeys('k1');
    const foreign = craft(other.signing, { alg: 'EdDSA', typ: 'toolgate+jwt', kid: 'k1' }, claims());
    const none = `${base64url(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${base64url(JSON.stringify(claims()))}.`;
    const publicX = t.keys.jwks().keys[0]!.x;
    const hsInput = `${base64url(JSON.stringify({ alg: 'HS256', kid: 'k1', typ: 'JWT' }))}.${base64url(JSON.stringify(claims()))}`;
    const hs256 = `${hsInput}.${base64url(createHmac('sha256', publicX).update(hsInput).digest())}`;
    const tamperedPayload = base64url(JSON.stringify({ ...parts(token).payload, tools: ['*'] }));
    const tampered = `${h}.${tamperedPayload}.${s}`;
    for (const bad of [flipped, foreign, none, hs256, tampered, 'not-a-token']) {
      expect(await codes(t, bad), bad.slice(0, 40)).toEqual({
        call: 'CREDENTIAL_INVALID',
        check: 'CREDENTIAL_INVALID',
      });
    }
    expect(t.runs).toHaveLength(0);
    // The tampered token asked for every tool; the real one still covers only db.query.
    expect(await codes(t, token, {}, 'payments.refund')).toEqual({
      call: 'OUT_OF_SCOPE',
      check: 'OUT_OF_SCOPE',
    });
  });

  it('refuses an expired, a not-yet-valid and another audience’s credential', async () => {
    const t = await guarded();
    const token = await t.issue({ ttl: '5m' });
    const early = craft(
      t.signing,
      { alg: 'EdDSA', typ: 'toolgate+jwt', kid: 'k1' },
      {
        ...claims({ jti: 'early-1' }),
        nbf: Math.floor(t.clock.now() / 1000) + 600,
        exp: Math.floor(t.clock.now() / 1000) + 1200,
      },
    );
    expect(await codes(t, early)).toEqual({ call: 'CREDENTIAL_EXPIRED', check: 'CREDENTIAL_EXPIRED' });
    const elsewhere = await t.issue({ audience: 'billing' });
    expect(await codes(t, elsewhere)).toEqual({ call: 'CREDENTIAL_INVALID', check: 'CREDENTIAL_INVALID' });
    expect(await codes(t, token)).toEqual({ call: undefined, check: undefined });
    // Within the 60 s skew it still runs; past it, it is expired.
    t.clock.advance(5 * 60_000 + 30_000);
    expect(await codes(t, token)).toEqual({ call: undefined, check: undefined });
    t.clock.advance(31_000);
    expect(await codes(t, token)).toEqual({ call: 'CREDENTIAL_EXPIRED', check: 'CREDENTIAL_EXPIRED' });
  });

  it('denies a tool outside the credential’s tools even when the policy allows it (OUT_OF_SCOPE)', async () => {
    const t = await guarded();
    const token = await t.issue({ tools: ['db.query'] });
    expect(await codes(t, token, {}, 'payments.refund')).toEqual({
      call: 'OUT_OF_SCOPE',
      check: 'OUT_OF_SCOPE',
    });
    // The record names who tried, with which credential.
    expect(t.decisions().at(-1)).toMatchObject({
      code: 'OUT_OF_SCOPE',
      tool: 'payments.refund',
      agent: 'support-bot',
      verified: true,
      failed: [
        {
          path: 'tool.name',
          expected: "one of the credential's tools (db.query)",
          actual: 'payments.refund',
        },
      ],
    });
    expect(t.decisions().at(-1)?.credentialId).toEqual(expect.any(String));
  });

  it('a host value that differs from the verified claims denies INVALID_CONTEXT; an equal one runs', async () => {
    const t = await guarded();
    const token = await t.issue();
    for (const context of [
      { principal: 'user:7' },
      { agent: 'other-bot' },
      { intent: 'x' },
      { session: 's-1' },
    ])
      expect(await codes(t, token, context)).toEqual({ call: 'INVALID_CONTEXT', check: 'INVALID_CONTEXT' });
    const scoped = await t.tg
      .withContext({ principal: 'user:7' }, () => t.tg.withCredential(token, () => t.query({ q: 'x' })))
      .catch((error: { code: string }) => error.code);
    expect(scoped).toBe('INVALID_CONTEXT');
    expect(await codes(t, token, { principal: 'user:42', attributes: { tier: 'gold' } })).toEqual({
      call: undefined,
      check: undefined,
    });
    expect(t.runs.at(-1)).toMatchObject({
      principal: 'user:42',
      attributes: { tier: 'gold' },
      verified: true,
    });
    // The guard sets `verified` and `credentialId`; a host cannot.
    expect(await codes(t, undefined, { verified: true })).toEqual({
      call: 'INVALID_CONTEXT',
      check: 'INVALID_CONTEXT',
    });
  });

  it('revocation and suspension deny the next call; resume lets it run again', async () => {
    for (const separateStore of [false, true]) {
      const t = await guarded({ separateStore });
      const token = await t.issue();
      const { jti } = await verifyCredential(t.verifyOptions, token);
      expect(await codes(t, token)).toEqual({ call: undefined, check: undefined });
      await t.registry.suspend('support-bot');
      expect(await codes(t, token)).toEqual({ call: 'AGENT_SUSPENDED', check: 'AGENT_SUSPENDED' });
      await t.registry.resume('support-bot');
      expect(await codes(t, token)).toEqual({ call: undefined, check: undefined });
      await t.registry.revokeCredential(jti);
      expect(await codes(t, token)).toEqual({ call: 'CREDENTIAL_REVOKED', check: 'CREDENTIAL_REVOKED' });
      expect(t.decisions().at(-1)).toMatchObject({ code: 'CREDENTIAL_REVOKED', credentialId: jti });
      expect(t.runs).toHaveLength(2);
    }
  });

  it('a credential revoked while the call waits for approval never runs', async () => {
    let revoke: () => Promise<unknown> = async () => undefined;
    const approver = scriptedApprover([
      async (request) => {
        await revoke();
        return { requestId: request.id, approved: true, approver: 'alice' };
      },
    ]);
    const t = await guarded({
      policy: rules([{ id: 'ask', effect: 'ask', tool: 'db.query', reason: 'check it' }]),
      approver,
    });
    const token = await t.issue();
    const { jti } = await verifyCredential(t.verifyOptions, token);
    revoke = () => t.registry.revokeCredential(jti);
    const code = await t.query({ q: 'x' }, { context: { credential: token } }).then(
      () => undefined,
      (error: { code: string }) => error.code,
    );
    expect(code).toBe('CREDENTIAL_REVOKED');
    expect(t.runs).toHaveLength(0);
    expect(t.decisions()).toHaveLength(1);
  });

  it('a guarded call made inside a tool presents the same credential', async () => {
    const t = await guarded();
    const token = await t.issue({ tools: ['db.*'] });
    const inner = t.tg.guard((_args: object, { context }) => context, { name: 'db.inner' });
    const outer = t.tg.guard(() => inner({}), { name: 'db.outer' });
    const context = await t.tg.withCredential(token, () => outer({}));
    expect(context).toMatchObject({ agent: 'support-bot', verified: true });
    expect(t.decisions().map((d) => [d.tool, d.verified])).toEqual([
      ['db.outer', true],
      ['db.inner', true],
    ]);
  });

  it('a delegated credential only narrows, and revoking its parent denies it', async () => {
    const t = await guarded();
    const parent = await t.issue({ tools: ['db.*', 'payments.refund'] });
    const child = await delegateCredential(t.authority, parent, { tools: ['db.query'] });
    expect(await codes(t, child)).toEqual({ call: undefined, check: undefined });
    expect(await codes(t, child, {}, 'payments.refund')).toEqual({
      call: 'OUT_OF_SCOPE',
      check: 'OUT_OF_SCOPE',
    });
    expect(await codes(t, parent, {}, 'payments.refund')).toEqual({ call: undefined, check: undefined });
    await t.registry.revokeCredential((await verifyCredential(t.verifyOptions, parent)).jti);
    expect(await codes(t, child)).toEqual({ call: 'CREDENTIAL_REVOKED', check: 'CREDENTIAL_REVOKED' });
  });

  it('withContext inside withCredential keeps the credential and adds attributes', async () => {
    const t = await guarded();
    const token = await t.issue();
    await t.tg.withCredential(token, () =>
      t.tg.withContext({ attributes: { tier: 'gold' } }, () => t.query({ q: 'x' })),
    );
    expect(t.runs[0]).toMatchObject({ principal: 'user:42', attributes: { tier: 'gold' }, verified: true });
  });

  it('conditions read context.verified and context.credentialId', async () => {
    const policy = rules([
      { id: 'verified-only', effect: 'allow', tool: 'db.query', when: { 'context.verified': { eq: true } } },
    ]);
    const t = await guarded({ policy, require: false });
    const token = await t.issue();
    expect(await codes(t, token)).toEqual({ call: undefined, check: undefined });
    expect(await codes(t, undefined, { principal: 'user:42' })).toEqual({
      call: 'NO_MATCHING_RULE',
      check: 'NO_MATCHING_RULE',
    });
  });

  it('a guard without identity leaves a credential from the scope alone', async () => {
    const t = await guarded();
    const token = await t.issue();
    const plain = createGuard({ policy: ALLOW_ALL });
    const other = plain.guard((_args: object, { context }) => context, { name: 'notes.add' });
    await expect(t.tg.withCredential(token, () => other({}))).resolves.toEqual({});
  });

  it('refuses a credential where no identity is configured, and bad identity options', async () => {
    const env = await setup();
    const token = await issueCredential(env.authority, {
      agent: 'support-bot',
      principal: 'user:42',
      tools: ['db.query'],
      audience: 'shop',
    });
    const tg = createGuard({ policy: ALLOW_ALL });
    const tool = tg.guard(() => 1, { name: 'db.query' });
    await expect(tool({}, { context: { credential: token } })).rejects.toMatchObject({
      code: 'CREDENTIAL_INVALID',
    });
    expect(() => tg.withCredential(token, () => 1)).toThrow(ConfigurationError);
    expect(() =>
      createGuard({ policy: ALLOW_ALL, identity: { keys: env.keys, registry: env.registry, audience: '' } }),
    ).toThrow(ConfigurationError);
    expect(() =>
      createGuard({
        policy: ALLOW_ALL,
        identity: { keys: env.keys, registry: env.registry, audience: 'shop', extra: 1 } as never,
      }),
    ).toThrow(ConfigurationError);
  });
});
