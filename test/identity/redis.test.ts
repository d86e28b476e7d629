import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import {
  agentRegistry,
  createKeySet,
  delegateCredential,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from '../../src/identity/index.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from '../store/redis-env.ts';
import { startLineProcess } from './child-process.ts';

const VERIFIER = fileURLToPath(new URL('./fixtures/verifier.ts', import.meta.url));
const skip = await redisSkipReason();
const prefixes: string[] = [];

afterAll(async () => {
  if (skip !== undefined) return;
  const client = newClient();
  for (const prefix of prefixes) await deleteKeys(client, prefix);
  await client.quit();
});

/** A second process verifying tokens against the same Redis; `verify` sends one and reads its answer. */
function startVerifier(prefix: string, jwks: unknown) {
  const child = startLineProcess(VERIFIER, { REDIS_URL, PREFIX: prefix, JWKS: JSON.stringify(jwks) });
  return {
    ready: child.ready,
    async verify(token: string): Promise<{ ok: boolean; code?: string; sub?: string }> {
      return JSON.parse(await child.send(token));
    },
    stop: () => child.stop(),
  };
}

describe.skipIf(skip !== undefined)(
  `identity across processes sharing Redis${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    it('a revocation, a suspension and a parent revocation are seen by the other process on its next verification', {
      timeout: 60_000,
    }, async () => {
      const prefix = uniquePrefix('identity');
      prefixes.push(prefix);
      const client = newClient();
      const store = redisStore({ client, prefix });
      const registry = agentRegistry({ store });
      const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
      await registry.register('support-bot', {
        owner: 'team:support',
        tools: ['db.*'],
        principals: ['user:*'],
        maxTtl: '1h',
      });
      await registry.register('sql-helper', {
        owner: 'team:data',
        tools: ['db.query'],
        principals: ['user:*'],
        maxTtl: '1h',
      });
      const issue = () =>
        issueCredential(
          { keys, registry },
          { agent: 'support-bot', principal: 'user:42', tools: ['db.*'], audience: 'shop' },
        );
      const verifier = startVerifier(prefix, keys.jwks());
      try {
        expect(await verifier.ready).toBe('ready');
        const token = await issue();
        expect(await verifier.verify(token)).toEqual({ ok: true, sub: 'support-bot' });
        const { jti } = await verifyCredential({ keys, registry, audience: 'shop' }, token);
        await registry.revokeCredential(jti);
        expect(await verifier.verify(token)).toEqual({ ok: false, code: 'CREDENTIAL_REVOKED' });

        const second = await issue();
        expect(await verifier.verify(second)).toEqual({ ok: true, sub: 'support-bot' });
        await registry.suspend('support-bot');
        expect(await verifier.verify(second)).toEqual({ ok: false, code: 'AGENT_SUSPENDED' });
        await registry.resume('support-bot');
        expect(await verifier.verify(second)).toEqual({ ok: true, sub: 'support-bot' });

        const child = await delegateCredential({ keys, registry }, second, {
          agent: 'sql-helper',
          tools: ['db.query'],
        });
        const grandchild = await delegateCredential({ keys, registry }, child, { tools: ['db.query'] });
        expect(await verifier.verify(grandchild)).toEqual({ ok: true, sub: 'sql-helper' });
        const root = await verifyCredential({ keys, registry, audience: 'shop' }, second);
        await registry.revokeCredential(root.jti);
        expect(await verifier.verify(grandchild)).toEqual({ ok: false, code: 'CREDENTIAL_REVOKED' });

        const third = await issue();
        expect(await verifier.verify(third)).toEqual({ ok: true, sub: 'support-bot' });
        await registry.revoke('support-bot');
        expect(await verifier.verify(third)).toEqual({ ok: false, code: 'AGENT_SUSPENDED' });
        // The registry itself agrees across processes.
        const other = agentRegistry({ store: redisStore({ client, prefix }) });
        expect((await other.list()).map((agent) => [agent.agent, agent.status])).toEqual([
          ['sql-helper', 'active'],
          ['support-bot', 'revoked'],
        ]);
      } finally {
        await verifier.stop();
        await store.close?.();
        client.disconnect();
      }
    });
  },
);
