import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  autoApprove,
  ConfigurationError,
  callbackApprover,
  callbackSecrets,
  createGuard,
  type DecisionEvent,
  type GuardOptions,
  memoryAudit,
  rules,
  type SecretValue,
} from '../../src/index.ts';
import { fakeClock } from '../../src/testing/fakes.ts';

// The guard's `secrets` option: declared per tool, fetched just in time by the secrets step,
// handed to the tool, scrubbed from everything that leaves the guard.

// Values the audit trail's own detectors do not recognise, so what is seen is the scrubber's work.
const STRIPE = 'correct-horse-battery-staple-42';
const ROTATED = 'tr0ub4dor-and-three-more-words';

function setup(
  answer: (name: string, context: unknown) => SecretValue | Promise<SecretValue>,
  extra: Partial<GuardOptions> = {},
) {
  const audit = memoryAudit();
  const clock = fakeClock(Date.UTC(2026, 0, 5));
  const fetched: unknown[] = [];
  const tg = createGuard({
    policy: rules([
      { id: 'pay', effect: 'allow', tool: 'payments.*' },
      { id: 'big', effect: 'ask', tool: 'payments.big', reason: 'big refunds need a human' },
    ]),
    audit,
    now: clock.now,
    secrets: {
      provider: callbackSecrets((name, request) => {
        fetched.push(request.context);
        return answer(name, request.context);
      }),
      bindings: { stripe: { tools: ['payments.*'], principals: ['user:*'] } },
    },
    ...extra,
  });
  const decisions = () => audit.events.filter((e): e is DecisionEvent => e.type === 'decision');
  return { tg, audit, clock, fetched, decisions };
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: { code: string }) => error.code,
  );

describe('createGuard({ secrets })', () => {
  it('hands the tool its declared secrets; records name them, never their value', async () => {
    const { tg, audit, decisions } = setup(() => ({ value: STRIPE }));
    const seen: unknown[] = [];
    const refund = tg.guard(
      async (args: { order: string }, { secrets }) => {
        seen.push(secrets.stripe);
        return { refunded: args.order };
      },
      { name: 'payments.refund', secrets: ['stripe'] },
    );
    await expect(refund({ order: 'o-1' }, { context: { principal: 'user:42' } })).resolves.toEqual({
      refunded: 'o-1',
    });
    expect(seen).toEqual([STRIPE]);
    expect(decisions()[0]).toMatchObject({ decision: 'allow', secrets: ['stripe'] });
    expect(JSON.stringify(audit.events)).not.toContain(STRIPE);
    // A tool that declares none gets an empty object.
    const other = tg.guard((_args: object, { secrets }) => Object.keys(secrets), { name: 'payments.list' });
    await expect(other({})).resolves.toEqual([]);
  });

  it('throws ConfigurationError at tg.guard() for a secret no binding gives to the tool', () => {
    const { tg } = setup(() => ({ value: STRIPE }));
    expect(() => tg.guard(() => 1, { name: 'db.query', secrets: ['stripe'] })).toThrow(ConfigurationError);
    expect(() => tg.guard(() => 1, { name: 'payments.refund', secrets: ['github'] })).toThrow(
      ConfigurationError,
    );
    expect(() => tg.guard(() => 1, { name: 'payments.refund', secrets: ['../etc'] })).toThrow(
      ConfigurationError,
    );
    const plain = createGuard({ policy: rules([]) });
    expect(() => plain.guard(() => 1, { name: 'payments.refund', secrets: ['stripe'] })).toThrow(
      /no secrets option/,
    );
  });

  it('denies SECRET_NOT_BOUND for a principal outside the binding; the tool never runs', async () => {
    const { tg, fetched, decisions } = setup(() => ({ value: STRIPE }));
    let ran = 0;
    const refund = tg.guard(() => ++ran, { name: 'payments.refund', secrets: ['stripe'] });
    expect(await code(refund({}, { context: { principal: 'service:batch' } }))).toBe('SECRET_NOT_BOUND');
    expect(await code(refund({}))).toBe('SECRET_NOT_BOUND');
    expect(ran).toBe(0);
    expect(fetched).toHaveLength(0);
    expect(decisions().map((d) => d.code)).toEqual(['SECRET_NOT_BOUND', 'SECRET_NOT_BOUND']);
    // Known before the approval and the limits: a dry run answers as the call does.
    const dry = await tg.check('payments.refund', {}, { principal: 'service:batch' });
    expect(dry).toMatchObject({ type: 'deny', code: 'SECRET_NOT_BOUND' });
    expect((await tg.check('payments.refund', {}, { principal: 'user:1' })).type).toBe('allow');
  });

  it('an ask is not put to a person when the call could not get its secrets', async () => {
    const asked: string[] = [];
    const tg = createGuard({
      policy: rules([{ id: 'refunds', effect: 'ask', tool: 'payments.refund' }]),
      approver: callbackApprover((request) => {
        asked.push(request.id);
        return { requestId: request.id, approved: true, approver: 'user:ops' };
      }),
      secrets: {
        provider: callbackSecrets(() => ({ value: STRIPE })),
        bindings: { stripe: { tools: ['payments.*'], principals: ['user:*'] } },
      },
      onDeny: 'return',
    });
    const refund = tg.guard(() => 'ran', { name: 'payments.refund', secrets: ['stripe'] });
    expect(await refund({}, { context: { principal: 'service:batch' } })).toMatchObject({
      code: 'SECRET_NOT_BOUND',
    });
    expect(asked).toEqual([]);
    expect(await refund({}, { context: { principal: 'user:1' } })).toBe('ran');
    expect(asked).toHaveLength(1);
  });

  it('a provider failure, timeout or expired answer is the call’s one decision (SECRET_UNAVAILABLE)', async () => {
    for (const answer of [
      () => {
        throw new Error('vault sealed');
      },
      () => ({ value: STRIPE, expiresAt: Date.UTC(2026, 0, 4) }),
      () => ({ value: '' }),
      () => 42 as never,
    ]) {
      const { tg, audit, decisions } = setup(answer);
      let ran = 0;
      const refund = tg.guard(() => ++ran, { name: 'payments.refund', secrets: ['stripe'] });
      const error = await refund({}, { context: { principal: 'user:42' } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
      expect(ran).toBe(0);
      expect(audit.events.map((e) => e.type)).toEqual(['decision']);
      expect(decisions()[0]).toMatchObject({
        decision: 'deny',
        code: 'SECRET_UNAVAILABLE',
        secrets: ['stripe'],
      });
      expect(JSON.stringify(audit.events)).not.toContain(STRIPE);
    }
  });

  it('fetches after the approval, and fetches again at every call (a rotated value is used and scrubbed)', async () => {
    const values = [STRIPE, ROTATED];
    const order: string[] = [];
    const { tg, audit } = setup(
      () => {
        order.push('fetch');
        return { value: values.shift()!, expiresAt: Date.UTC(2026, 0, 6) };
      },
      {
        approver: {
          name: 'recording',
          request: (request) => {
            order.push('approve');
            return autoApprove().request(request, { signal: new AbortController().signal });
          },
        },
      },
    );
    const big = tg.guard((_args: object, { secrets }) => `used ${secrets.stripe}`, {
      name: 'payments.big',
      secrets: ['stripe'],
    });
    const context = { principal: 'user:42' };
    await expect(big({}, { context })).resolves.toBe('used [secret:stripe]');
    expect(order).toEqual(['approve', 'fetch']);
    await expect(big({}, { context })).resolves.toBe('used [secret:stripe]');
    // Both values stay scrubbed: the first one leaking later is still caught.
    const echo = tg.guard(() => `old ${STRIPE}, new ${ROTATED}`, { name: 'payments.echo' });
    await expect(echo({})).resolves.toBe('old [secret:stripe], new [secret:stripe]');
    expect(JSON.stringify(audit.events)).not.toContain(STRIPE);
    expect(JSON.stringify(audit.events)).not.toContain(ROTATED);
  });

  it('scrubs results, the tool’s own error (same object), denials and approval requests of handed-out values and their encodings', async () => {
    const requests: unknown[] = [];
    const { tg, audit } = setup(() => ({ value: STRIPE }), {
      approver: {
        name: 'recording',
        request: (request) => {
          requests.push(request);
          return {
            requestId: request.id,
            approved: false,
            approver: 'alice',
            reason: `no, not with ${STRIPE}`,
          };
        },
      },
    });
    const charge = tg.guard((_args: object, { secrets }) => secrets.stripe, {
      name: 'payments.charge',
      secrets: ['stripe'],
    });
    await expect(charge({}, { context: { principal: 'user:42' } })).resolves.toBe('[secret:stripe]');
    const forms = [
      STRIPE,
      Buffer.from(STRIPE).toString('base64'),
      Buffer.from(STRIPE).toString('base64url'),
      Buffer.from(STRIPE).toString('hex'),
      encodeURIComponent(`key=${STRIPE}&x=1`),
    ];
    const leaky = tg.guard(() => ({ forms, nested: [{ note: `header: Bearer ${STRIPE}` }] }), {
      name: 'payments.leak',
    });
    const result = await leaky({});
    for (const form of forms) expect(JSON.stringify(result)).not.toContain(form);
    expect(JSON.stringify(result)).toContain('[secret:stripe]');
    const thrown = new Error(`charge failed for ${STRIPE}`);
    const failing = tg.guard(
      () => {
        throw thrown;
      },
      { name: 'payments.fail' },
    );
    const error = await failing({}).catch((e: unknown) => e);
    expect(error).toBe(thrown);
    expect((error as Error).message).toBe('charge failed for [secret:stripe]');
    expect((error as Error).stack).not.toContain(STRIPE);
    // The model echoing a secret into arguments: the approval request and the denial are scrubbed.
    const big = tg.guard(() => 1, { name: 'payments.big' });
    const denied = await big({ note: STRIPE }).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(JSON.stringify(requests)).not.toContain(STRIPE);
    expect(`${(denied as Error).message} ${JSON.stringify(denied)}`).not.toContain(STRIPE);
    const everything = JSON.stringify(audit.events satisfies AuditEvent[]);
    for (const form of forms) expect(everything).not.toContain(form);
    // check() answers are scrubbed too.
    expect(JSON.stringify(await tg.check('payments.big', { note: STRIPE }))).not.toContain(STRIPE);
  });
});
