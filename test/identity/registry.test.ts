import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonlAudit } from '../../src/audit/jsonl.ts';
import type { AuditSink } from '../../src/audit/types.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { CredentialError } from '../../src/errors.ts';
import { agentRegistry, issueCredential, verifyCredential } from '../../src/identity/index.ts';
import { memoryStore } from '../../src/store/memory.ts';
import { START, setup } from './helpers.ts';

const ISSUE = { agent: 'support-bot', principal: 'user:42', tools: ['db.query'], audience: 'shop' };

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return CredentialError.isInstance(error) ? error.code : String(error);
}

describe('agentRegistry', () => {
  it('registers, lists, suspends (for a while), resumes and revokes for good', async () => {
    const { registry, clock, authority, verifyOptions } = await setup();
    expect(await registry.get('support-bot')).toEqual({
      agent: 'support-bot',
      owner: 'team:support',
      tools: ['db.*', 'payments.refund'],
      principals: ['user:*'],
      maxTtl: 3_600_000,
      status: 'active',
      revision: 1,
      registeredAt: START,
      updatedAt: START,
    });
    await registry.register('report-bot', {
      owner: 'team:data',
      description: 'weekly reports',
      tools: ['db.query'],
      principals: ['team:*'],
      maxTtl: '10m',
    });
    expect((await registry.list()).map((agent) => agent.agent)).toEqual(['report-bot', 'support-bot']);
    const token = await issueCredential(authority, ISSUE);
    const suspended = await registry.suspend('support-bot', { reason: 'incident 7', for: '10m' });
    expect(suspended).toMatchObject({
      status: 'suspended',
      reason: 'incident 7',
      suspendedUntil: START + 600_000,
    });
    expect(await code(verifyCredential(verifyOptions, token))).toBe('AGENT_SUSPENDED');
    clock.advance(600_000);
    expect((await registry.get('support-bot'))?.status).toBe('active');
    await verifyCredential(verifyOptions, token);
    await registry.suspend('support-bot');
    expect((await registry.resume('support-bot')).status).toBe('active');
    const revoked = await registry.revoke('support-bot', { reason: 'retired' });
    expect(revoked).toMatchObject({ status: 'revoked', reason: 'retired' });
    expect(await code(verifyCredential(verifyOptions, token))).toBe('AGENT_SUSPENDED');
    expect((await registry.resume('support-bot')).status).toBe('revoked');
    expect(
      await code(
        registry.register('support-bot', { owner: 'x', tools: ['db.*'], principals: ['*'], maxTtl: '1h' }),
      ),
    ).toBe('AGENT_SUSPENDED');
    expect(await code(registry.suspend('ghost'))).toBe('UNKNOWN_AGENT');
    expect(await code(registry.revoke('ghost'))).toBe('UNKNOWN_AGENT');
    expect(await registry.get('ghost')).toBeUndefined();
  });

  it('fails its operations, naming its clock, when `now` answers no time', async () => {
    const broken = agentRegistry({ store: memoryStore(), now: () => Number.NaN });
    await expect(
      broken.register('bot', { owner: 'team', tools: ['t'], principals: ['user:*'], maxTtl: '1h' }),
    ).rejects.toThrow(/agentRegistry now\(\) answered NaN, not a finite number of epoch ms/);
  });

  it('validates registrations', async () => {
    const registry = agentRegistry({ store: memoryStore() });
    const good = { owner: 'team:a', tools: ['db.*'], principals: ['user:*'], maxTtl: '1h' };
    for (const bad of [
      { ...good, tools: [] },
      { ...good, tools: ['db query'] },
      { ...good, principals: [] },
      { ...good, principals: ['user:\u202e1'] },
      { ...good, maxTtl: '31d' },
      { ...good, maxTtl: 'soon' },
      { ...good, owner: '' },
      { ...good, extra: true },
    ]) {
      await expect(registry.register('a', bad as never), JSON.stringify(bad)).rejects.toThrow();
    }
    await expect(registry.register(' a', good)).rejects.toThrow(/whitespace/);
    expect(() => agentRegistry({} as never)).toThrow(/store/);
    expect(() => agentRegistry({ store: memoryStore(), clock: 1 } as never)).toThrow(/unknown option/);
  });

  it('a narrower registration ends the credentials issued under the wider one; a wider one keeps them', async () => {
    const { registry, authority, verifyOptions } = await setup();
    const before = await issueCredential(authority, { ...ISSUE, tools: ['payments.refund'] });
    const widened = await registry.register('support-bot', {
      owner: 'team:support',
      tools: ['db.*', 'payments.*'],
      principals: ['user:*', 'team:*'],
      maxTtl: '2h',
    });
    expect(widened.revision).toBe(1);
    await verifyCredential(verifyOptions, before);
    const narrowed = await registry.register('support-bot', {
      owner: 'team:support',
      tools: ['db.*'],
      principals: ['user:*'],
      maxTtl: '2h',
    });
    expect(narrowed.revision).toBe(2);
    expect(await code(verifyCredential(verifyOptions, before))).toBe('CREDENTIAL_REVOKED');
    const after = await issueCredential(authority, ISSUE);
    await verifyCredential(verifyOptions, after);
    // A shorter maxTtl narrows too.
    await registry.register('support-bot', {
      owner: 'team:support',
      tools: ['db.*'],
      principals: ['user:*'],
      maxTtl: '1h',
    });
    expect(await code(verifyCredential(verifyOptions, after))).toBe('CREDENTIAL_REVOKED');
  });

  it('revokes credentials it never issued until the longest life has passed, and sweeps lapsed entries', async () => {
    const { registry, store, clock } = await setup();
    expect(await registry.revokeCredential('someone-elses')).toBe(false);
    const entry = (await store.suspensions(clock.now())).find(
      (e) => e.key === 'identity.credential=someone-elses',
    );
    expect(entry?.until).toBe(START + 30 * 86_400_000 + 300_000);
    clock.advance(31 * 86_400_000);
    await registry.revokeCredential('another');
    expect(await store.list('identity.revocations', clock.now())).toHaveLength(1);
  });

  it('records every change; a JSONL log of them verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolgate-identity-'));
    try {
      const path = join(dir, 'audit.jsonl');
      const sink = jsonlAudit({ path });
      const registry = agentRegistry({ store: memoryStore(), audit: sink, now: () => START });
      await registry.register('a', { owner: 'o', tools: ['x.*'], principals: ['*'], maxTtl: '1h' });
      await registry.suspend('a', { reason: 'r' });
      await registry.resume('a');
      await registry.revokeCredential('j1');
      await registry.revoke('a');
      await sink.close();
      const result = await verifyAuditLog(path);
      expect(result).toMatchObject({ ok: true, events: 5 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a failing audit sink refuses to hand out a credential; a registry change stands and reports it', async () => {
    const failing: AuditSink = {
      name: 'broken',
      write() {
        throw new Error('disk full');
      },
    };
    const store = memoryStore();
    const { keys } = await setup();
    const registry = agentRegistry({ store, audit: failing, now: () => START });
    await expect(
      registry.register('support-bot', { owner: 'o', tools: ['db.*'], principals: ['user:*'], maxTtl: '1h' }),
    ).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect((await registry.get('support-bot'))?.status).toBe('active');
    await expect(issueCredential({ keys, registry }, ISSUE)).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
    });
    await expect(registry.suspend('support-bot')).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect((await registry.get('support-bot'))?.status).toBe('suspended');
  });

  it('a store that fails refuses verification with STORE_UNAVAILABLE', async () => {
    const { authority, store, verifyOptions } = await setup();
    const token = await issueCredential(authority, ISSUE);
    await store.suspend('tool=x', { at: START });
    const admit = store.admit.bind(store);
    (store as { admit: unknown }).admit = () => {
      throw new Error('connection reset');
    };
    await expect(verifyCredential(verifyOptions, token)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    (store as { admit: unknown }).admit = admit;
    await verifyCredential(verifyOptions, token);
  });
});
