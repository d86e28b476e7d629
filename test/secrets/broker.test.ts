import { describe, expect, it } from 'vitest';
import { secretBroker } from '../../src/secrets/broker.ts';
import { callbackSecrets } from '../../src/secrets/callback.ts';
import { envSecrets } from '../../src/secrets/env.ts';

const CALL = { callId: 'c1', context: Object.freeze({ agent: 'support-bot', principal: 'user:42' }) };
const NOW = Date.UTC(2026, 0, 5);

describe('secretBroker (the secrets step, before it is wired into the guard)', () => {
  const provider = envSecrets({
    prefix: 'TG_SECRET_',
    env: { TG_SECRET_STRIPE: 'sk_live_123456789', TG_SECRET_SHORT: 'abc' },
  });
  const bindings = {
    stripe: { tools: ['payments.*'], principals: ['user:*'] },
    short: { tools: ['x'] },
    missing: { tools: ['payments.*'] },
  };

  it('checks declarations against bindings at guard() time', () => {
    const broker = secretBroker({ provider, bindings });
    broker.checkTool('payments.refund', ['stripe']);
    expect(() => broker.checkTool('db.query', ['stripe'])).toThrow(/no binding gives it/);
    expect(() => broker.checkTool('payments.refund', ['unknown'])).toThrow(/no binding/);
    expect(() => secretBroker({ provider, bindings: { '../x': { tools: ['a'] } } })).toThrow(/secret name/);
    expect(() => secretBroker({ provider, bindings: { a: { tools: [] } } })).toThrow(/tools/);
    expect(() => secretBroker({ provider: {} as never, bindings })).toThrow(/SecretProvider/);
  });

  it('fetches just in time, remembers values for scrubbing, and denies with typed codes', async () => {
    const broker = secretBroker({ provider, bindings });
    expect(await broker.fetch('payments.refund', ['stripe'], CALL, NOW)).toEqual({
      ok: true,
      secrets: { stripe: 'sk_live_123456789' },
    });
    expect(broker.scrubber.text('sk_live_123456789')).toBe('[secret:stripe]');
    expect(
      await broker.fetch('payments.refund', ['stripe'], { ...CALL, context: { principal: 'admin:1' } }, NOW),
    ).toMatchObject({
      ok: false,
      code: 'SECRET_NOT_BOUND',
    });
    expect(await broker.fetch('payments.refund', ['stripe'], { ...CALL, context: {} }, NOW)).toMatchObject({
      ok: false,
      code: 'SECRET_NOT_BOUND',
    });
    expect(await broker.fetch('db.query', ['stripe'], CALL, NOW)).toMatchObject({
      ok: false,
      code: 'SECRET_NOT_BOUND',
    });
    const missing = await broker.fetch('payments.refund', ['missing'], CALL, NOW);
    expect(missing).toMatchObject({ ok: false, code: 'SECRET_UNAVAILABLE' });
    expect(!missing.ok && missing.reason).toMatch(/TG_SECRET_MISSING is not set/);
    expect(await broker.fetch('x', ['short'], CALL, NOW)).toMatchObject({
      ok: false,
      code: 'SECRET_UNAVAILABLE',
    });
    expect(broker.fetch('payments.refund', [], CALL, NOW)).toEqual({ ok: true, secrets: {} });
  });

  it('fetches at every call with the call context; a slow or failing provider denies, its error scrubbed', async () => {
    let calls = 0;
    const seen: unknown[] = [];
    const answers: (() => unknown)[] = [
      () => ({ value: 'rotating-value-1', expiresAt: NOW + 10_000 }),
      () => ({ value: 'rotating-value-2', expiresAt: NOW + 20_000 }),
      () => {
        throw new Error('vault said: rotating-value-2 is revoked');
      },
      () => new Promise(() => {}),
      () => ({ value: 'already-expired-1', expiresAt: NOW }),
    ];
    const broker = secretBroker({
      provider: callbackSecrets((_name, request) => {
        calls += 1;
        seen.push({ tool: request.tool, callId: request.callId, principal: request.context.principal });
        return answers.shift()!() as never;
      }),
      bindings: { vault: { tools: ['*'] } },
      timeout: '50ms',
    });
    // No cache in the broker: the answer may depend on the call, which the provider sees.
    expect(await broker.fetch('t', ['vault'], CALL, NOW)).toEqual({
      ok: true,
      secrets: { vault: 'rotating-value-1' },
    });
    expect(await broker.fetch('t', ['vault'], CALL, NOW + 5_000)).toEqual({
      ok: true,
      secrets: { vault: 'rotating-value-2' },
    });
    expect(calls).toBe(2);
    expect(seen.at(-1)).toEqual({ tool: 't', callId: 'c1', principal: 'user:42' });
    expect(broker.scrubber.text('rotating-value-1 rotating-value-2')).toBe('[secret:vault] [secret:vault]');
    const failed = await broker.fetch('t', ['vault'], CALL, NOW + 19_500);
    expect(failed).toMatchObject({ ok: false, code: 'SECRET_UNAVAILABLE' });
    expect(!failed.ok && failed.reason).toBe(
      'secret vault is unavailable from callback: vault said: [secret:vault] is revoked',
    );
    expect(await broker.fetch('t', ['vault'], CALL, NOW + 19_500)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/did not answer within 50 ms/),
    });
    expect(await broker.fetch('t', ['vault'], CALL, NOW + 19_500)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already expired/),
    });
  });
});
