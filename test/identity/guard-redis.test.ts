import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import {
  agentRegistry,
  createKeySet,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from '../../src/identity/index.ts';
import { createGuard, memoryStore, rules } from '../../src/index.ts';
import { scriptedApprover } from '../../src/testing/fakes.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from '../store/redis-env.ts';
import { startLineProcess } from './child-process.ts';

// G16 across processes: the registry's owner revokes or suspends in another process, through
// Redis, and the guard here denies the very next call (or the call waiting for approval).

const ADMIN = fileURLToPath(new URL('./fixtures/registry-admin.ts', import.meta.url));
const skip = await redisSkipReason();
const prefixes: string[] = [];

afterAll(async () => {
  if (skip !== undefined) return;
  const client = newClient();
  for (const prefix of prefixes) await deleteKeys(client, prefix);
  await client.quit();
});

/** The other process: `run(command)` resolves once it has written the change to Redis. */
function startAdmin(prefix: string) {
  const child = startLineProcess(ADMIN, { REDIS_URL, PREFIX: prefix });
  return { ready: child.ready, run: (command: string) => child.send(command), stop: () => child.stop() };
}

describe.skipIf(skip !== undefined)(
  `the guard's identity across processes sharing Redis${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    it('a revocation or suspension made by another process denies the next call; one made during an approval wait denies that call', {
      timeout: 60_000,
    }, async () => {
      const prefix = uniquePrefix('identity-guard');
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
      const admin = startAdmin(prefix);
      let duringApproval: () => Promise<unknown> = async () => undefined;
      const approver = scriptedApprover([
        async (request) => {
          await duringApproval();
          return { requestId: request.id, approved: true, approver: 'alice' };
        },
      ]);
      const policy = rules([
        { id: 'read', effect: 'allow', tool: 'db.query' },
        { id: 'write', effect: 'ask', tool: 'db.write', reason: 'writes are checked' },
      ]);
      let ran = 0;
      const issue = () =>
        issueCredential(
          { keys, registry },
          { agent: 'support-bot', principal: 'user:42', tools: ['db.*'], audience: 'shop' },
        );
      const code = (promise: Promise<unknown>) =>
        promise.then(
          () => 'ran',
          (error: { code: string }) => error.code,
        );
      try {
        expect(await admin.ready).toBe('ready');
        // The registry shares the guard's store (revocations ride on the limits admit), and a guard
        // whose own store is in memory (the verify step asks the registry's store).
        for (const guardStore of [store, memoryStore()]) {
          const tg = createGuard({
            policy,
            approver,
            store: guardStore,
            identity: { keys, registry, audience: 'shop' },
          });
          const query = tg.guard(() => ++ran, { name: 'db.query' });
          const token = await issue();
          const { jti } = await verifyCredential({ keys, registry, audience: 'shop' }, token);
          const call = () => tg.withCredential(token, () => query({}));
          expect(await code(call())).toBe('ran');
          expect(await admin.run('suspend support-bot')).toBe('done');
          expect(await code(call())).toBe('AGENT_SUSPENDED');
          expect(await tg.check('db.query', {}, { credential: token })).toMatchObject({
            code: 'AGENT_SUSPENDED',
          });
          expect(await admin.run('resume support-bot')).toBe('done');
          expect(await code(call())).toBe('ran');
          expect(await admin.run(`revoke ${jti}`)).toBe('done');
          expect(await code(call())).toBe('CREDENTIAL_REVOKED');
          expect(await tg.check('db.query', {}, { credential: token })).toMatchObject({
            code: 'CREDENTIAL_REVOKED',
          });
        }
        expect(ran).toBe(4);

        const tg = createGuard({ policy, approver, store, identity: { keys, registry, audience: 'shop' } });
        const write = tg.guard(() => ++ran, { name: 'db.write' });
        const token = await issue();
        const { jti } = await verifyCredential({ keys, registry, audience: 'shop' }, token);
        duringApproval = async () => expect(await admin.run(`revoke ${jti}`)).toBe('done');
        expect(await code(tg.withCredential(token, () => write({})))).toBe('CREDENTIAL_REVOKED');
        expect(ran).toBe(4);
      } finally {
        await admin.stop();
        await store.close?.();
        client.disconnect();
      }
    });
  },
);
